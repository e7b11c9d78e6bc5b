import { instanceIdOf } from '../../src/controller/node-reconciler.js';
import { validatePrefix } from '../../src/cloudsim/fabric/names.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { repoPath } from '../harness/paths.js';
import { renderEnv, type SandboxInfo } from './info.js';
import { podNetnsPrefix, sandboxNames } from './naming.js';
import { nodeNetworkConfig, podCIDR } from './node-cni.js';
import { credentialsSecret, podNetwork, sandboxNetworkMode } from './operator-config.js';
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

  it('labels topology, instance type and the sandbox the node belongs to', () => {
    expect(nodeLabels(ali, 'sandbox-0123456789ab')).toEqual({
      'eni-operator.io/sandbox': 'sandbox-0123456789ab',
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
  const node = { index: 2, name: 'node-3', instanceId: 'i-x', netns: 'sb1-n-i-x', primaryIP: '10.0.0.3', stateDir: '/s', agentSocket: '/sb/nodes/node-3/agent.sock' };

  it('gives each node its own bridge range', () => {
    const conf = nodeNetworkConfig(node, 'bridge');
    expect(conf.plugins[0]).toMatchObject({ type: 'bridge', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]], dataDir: '/s/ipam' } });
    expect(() => podCIDR(256)).toThrow(/node index 256/);
  });

  it("points eni-cni at the node's agent, and refuses a socket path too long for the kernel", () => {
    expect(nodeNetworkConfig(node, 'eni')).toEqual({ cniVersion: '1.0.0', name: 'eni', plugins: [{ type: 'eni-cni', agentSocket: '/sb/nodes/node-3/agent.sock', timeoutMs: 30_000 }] });
    expect(() => nodeNetworkConfig({ ...node, agentSocket: `/${'x'.repeat(120)}/agent.sock` }, 'eni')).toThrow(/longer than a unix socket path may be/);
  });
});

describe("the sandbox's NetworkMode and credentials", () => {
  const world = loadWorldSpec(repoPath('config/cloudsim/world.yaml'));
  const region = (provider: string) => world.regions.find((r) => r.provider === provider)!;

  it('selects the sandbox nodes and names the pod subnets of both zones, the emulator and the Secret', () => {
    const mode = sandboxNetworkMode({ provider: 'alibaba', region: region('alibaba'), endpoint: '127.0.0.1:4567', sandboxId: 'sandbox-0123456789ab' });
    expect(mode.spec).toMatchObject({
      nodeSelector: { matchLabels: { 'eni-operator.io/sandbox': 'sandbox-0123456789ab' } },
      provider: { type: 'alibaba', region: 'cn-hangzhou', endpoint: '127.0.0.1:4567', allowInsecureHTTP: true, credentialsSecretRef: { name: 'sandbox-alibaba-credentials', namespace: 'eni-operator-system' } },
      subnets: ['vsw-bp1simpodsi000001', 'vsw-bp1simpodsj000001'],
      securityGroups: ['sg-bp1simpods00000001'],
      exclusive: { enabled: true },
    });
    expect(podNetwork(region('tencent')).subnets.map((s) => s.cidr)).toEqual(['10.1.16.0/20', '10.1.32.0/20']);
  });

  it("fills the Secret with the keys each provider's credentials use", () => {
    expect(credentialsSecret(world, 'alibaba').stringData).toEqual({ accessKeyId: 'LTAI5tSimulatorKey0001', accessKeySecret: 'sim-alibaba-secret-0001' });
    expect(credentialsSecret(world, 'tencent')).toMatchObject({
      metadata: { name: 'sandbox-tencent-credentials', namespace: 'eni-operator-system' },
      stringData: { secretId: 'AKIDSimulatorSecretId0001', secretKey: 'sim-tencent-secret-0001' },
    });
    expect(() => credentialsSecret({ ...world, credentials: [] }, 'tencent')).toThrow('world: no tencent credentials');
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
    expect(env).not.toMatch(/ENI_SANDBOX_CONTROLLER_HEALTH|AGENT_SOCKET|NETWORKMODE/);
  });

  it("lists the operator's endpoints and the NetworkMode to apply when the sandbox runs it", () => {
    const info = {
      id: 'sandbox-0123456789ab',
      cni: 'eni',
      kubeconfigs: {},
      nodes: [{ name: 'node-1', agentSocket: '/sb/nodes/node-1/agent.sock', agent: { url: 'http://127.0.0.1:9001', log: '/sb/nodes/node-1/agent.log' } }],
      operator: {
        controllerURL: 'http://127.0.0.1:9000',
        controllerLog: '/sb/controller.log',
        networkMode: '/sb/networkmode.yaml',
        credentialsSecret: 'eni-operator-system/sandbox-alibaba-credentials',
        nodeLabel: 'eni-operator.io/sandbox=sandbox-0123456789ab',
        podSubnets: [{ id: 'vsw-a', zone: 'z-i', cidr: '10.0.16.0/20' }, { id: 'vsw-b', zone: 'z-j', cidr: '10.0.32.0/20' }],
      },
    } as unknown as SandboxInfo;
    const env = renderEnv(info);
    for (const line of [
      'ENI_SANDBOX_CNI=eni',
      'ENI_SANDBOX_NETWORKMODE=/sb/networkmode.yaml',
      'ENI_SANDBOX_NODE_LABEL=eni-operator.io/sandbox=sandbox-0123456789ab',
      "ENI_SANDBOX_POD_CIDRS='10.0.16.0/20 10.0.32.0/20'",
      'ENI_SANDBOX_CONTROLLER_METRICS=http://127.0.0.1:9000/metrics',
      'ENI_SANDBOX_NODE_1_AGENT_SOCKET=/sb/nodes/node-1/agent.sock',
      'ENI_SANDBOX_NODE_1_AGENT_HEALTH=http://127.0.0.1:9001/healthz',
    ]) {
      expect(env).toContain(`${line}\n`);
    }
  });
});
