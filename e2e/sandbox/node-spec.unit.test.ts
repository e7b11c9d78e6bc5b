import { instanceIdOf } from '../../src/controller/node-reconciler.js';
import { validatePrefix } from '../../src/cloudsim/fabric/names.js';
import { renderEnv, type SandboxInfo } from './info.js';
import { podNetnsPrefix, sandboxNames } from './naming.js';
import { nodeNetworkConfig, podCIDR } from './node-cni.js';
import { nodeCapacity, nodeLabels, providerID, tencentZoneNumber } from './node-spec.js';
import type { SandboxNode } from './world.js';

const ali: SandboxNode = { name: 'node-1', instanceId: 'i-bp1sandbox000000001', zone: 'cn-hangzhou-j', instanceType: 'ecs.g7.xlarge', region: 'cn-hangzhou' };
const tc: SandboxNode = { name: 'node-2', instanceId: 'ins-sbx00002', zone: 'ap-guangzhou-6', instanceType: 'S5.LARGE8', region: 'ap-guangzhou' };

describe('node registration', () => {
  it("writes providerIDs in each cloud's format, which the controller reads back", () => {
    expect(providerID('alibaba', ali)).toBe('cn-hangzhou.i-bp1sandbox000000001');
    expect(providerID('tencent', tc)).toBe('qcloud:///100006/ins-sbx00002');
    expect(instanceIdOf(providerID('alibaba', ali))).toBe(ali.instanceId);
    expect(instanceIdOf(providerID('tencent', tc))).toBe(tc.instanceId);
  });

  it('numbers Tencent zones as Tencent does, and names what it cannot number', () => {
    expect(tencentZoneNumber('ap-guangzhou-3')).toBe(100003);
    expect(tencentZoneNumber('ap-beijing-2')).toBe(800002);
    expect(() => tencentZoneNumber('ap-mars-1')).toThrow(/tencent zone "ap-mars-1": no zone number known/);
  });

  it('labels topology and instance type', () => {
    expect(nodeLabels(ali)).toEqual({
      'kubernetes.io/hostname': 'node-1',
      'topology.kubernetes.io/region': 'cn-hangzhou',
      'topology.kubernetes.io/zone': 'cn-hangzhou-j',
      'node.kubernetes.io/instance-type': 'ecs.g7.xlarge',
    });
  });

  it('caps pods at the secondary IPs of the secondary ENIs', () => {
    expect(nodeCapacity({ type: 'ecs.g7.xlarge', maxENIs: 4, ipsPerENI: 15 })).toEqual({ cpu: '4', memory: '16Gi', pods: '42', 'ephemeral-storage': '20Gi' });
    expect(nodeCapacity({ type: 'S5.MEDIUM4', maxENIs: 2, ipsPerENI: 6 }).pods).toBe('5');
  });
});

describe('sandbox names', () => {
  it('are stable per folder, distinct across folders, and valid fabric prefixes', () => {
    const a = sandboxNames('/tmp/x/.sandbox');
    expect(sandboxNames('/tmp/x/.sandbox')).toEqual(a);
    expect(sandboxNames('/tmp/y/.sandbox').fabricPrefix).not.toBe(a.fabricPrefix);
    expect(validatePrefix(a.fabricPrefix)).toBe(a.fabricPrefix);
    expect(podNetnsPrefix(a.fabricPrefix, 0)).toBe(`${a.fabricPrefix}-p1`);
  });
});

describe('node CNI configuration', () => {
  it('gives each node its own bridge range', () => {
    const conf = nodeNetworkConfig({ index: 2, name: 'node-3', instanceId: 'i-x', netns: 'sb1-n-i-x', primaryIP: '10.0.0.3', stateDir: '/s' });
    expect(conf.plugins[0]).toMatchObject({ type: 'bridge', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]], dataDir: '/s/ipam' } });
    expect(() => podCIDR(256)).toThrow(/node index 256/);
  });
});

describe('the env file', () => {
  it('quotes what a shell would split', () => {
    const info = {
      provider: 'alibaba',
      region: 'cn-hangzhou',
      kubeconfig: '/a b/kubeconfig',
      kubeconfigs: { admin: '/k/admin', 'kube-scheduler': '/k/s' },
      nodes: [{ name: 'node-1' }, { name: 'node-2' }],
    } as unknown as SandboxInfo;
    const env = renderEnv(info);
    expect(env).toContain("KUBECONFIG='/a b/kubeconfig'\n");
    expect(env).toContain("ENI_SANDBOX_NODES='node-1 node-2'\n");
    expect(env).toContain('ENI_SANDBOX_KUBECONFIG_KUBE_SCHEDULER=/k/s\n');
    expect(env).toContain('ENI_SANDBOX_NODE_2_NAME=node-2\n');
  });
});
