// The CRDs as installed in a real API server: established, samples apply,
// status is a subresource, printer columns show, RBAC separates the components.
import * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, GROUP, type ENIPool, type NetworkMode, type NodeNetwork } from '../../src/api/index.js';
import { RESOURCES } from '../../src/api/crds.js';
import { repoPath } from '../harness/paths.js';
import { Resources, apiError, kubeConfig, runKubectl } from '../harness/cluster.js';

const admin = new Resources('admin');

function header(output: string): string[] {
  return (output.split('\n')[0] ?? '').trim().split(/\s+/);
}

describe('CRDs', () => {
  test('all three are Established with their names', async () => {
    const ext = kubeConfig().makeApiClient(k8s.ApiextensionsV1Api);
    for (const def of RESOURCES) {
      const crd = await ext.readCustomResourceDefinition({ name: `${def.plural}.${GROUP}` });
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      expect(established?.status).toBe('True');
      expect(crd.spec.scope).toBe('Cluster');
      expect(crd.spec.names.shortNames).toEqual(def.shortNames);
    }
  });

  test('every sample applies and reads back', async () => {
    const dir = repoPath('config', 'samples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const out = await runKubectl(['apply', '-f', `${dir}/${file}`]);
      expect(out).toMatch(/created|configured|unchanged/);
    }
    const modes = files.flatMap((f) => parseAllDocuments(readFileSync(`${dir}/${f}`, 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { provider: { type: string }; datapath: string } }));
    const nms = modes.filter((m) => m.kind === 'NetworkMode');
    expect(new Set(nms.map((m) => `${m.spec.provider.type}/${m.spec.datapath}`))).toEqual(new Set(['alibaba/veth', 'alibaba/ipvlan', 'tencent/veth', 'tencent/ipvlan']));
    for (const m of nms) {
      const stored = await admin.get<NetworkMode>('networkmodes', m.metadata.name);
      expect(stored.spec.provider.type).toBe(m.spec.provider.type);
      expect(stored.spec.pool.batchSize).toBe(10); // defaulted by the API server
      // The samples name real cloud endpoints: no controller in this run may act on them.
      await admin.delete('networkmodes', m.metadata.name);
    }
  });

  test('a status write does not bump metadata.generation; a spec write does', async () => {
    const name = 'gen-check';
    const created = await admin.create<NetworkMode>('networkmodes', {
      apiVersion: API_VERSION,
      kind: 'NetworkMode',
      metadata: { name },
      spec: {
        provider: { type: 'tencent', region: 'ap-guangzhou', credentialsSecretRef: { name: 'tc', namespace: 'eni-operator-system' } },
        subnets: ['subnet-3x5lf5q0'],
        securityGroups: ['sg-5x5lf5q0'],
      },
    });
    expect(created.metadata.generation).toBe(1);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const withStatus = await admin.mergePatchStatus<NetworkMode>('networkmodes', name, {
      status: {
        observedGeneration: 1,
        matchedNodes: 3,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'all nodes at target', lastTransitionTime: now }],
      },
    });
    expect(withStatus.status?.matchedNodes).toBe(3);
    expect(withStatus.metadata.generation).toBe(1);
    expect(Number(withStatus.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    // Status sent through the main resource is ignored...
    const ignored = await admin.mergePatch<NetworkMode>('networkmodes', name, { status: { matchedNodes: 99 } });
    expect(ignored.status?.matchedNodes).toBe(3);
    // ...and a spec change bumps the generation.
    const bumped = await admin.mergePatch<NetworkMode>('networkmodes', name, { spec: { pool: { warmIPs: 6 } } });
    expect(bumped.metadata.generation).toBe(2);
    await admin.delete('networkmodes', name);
  });

  test('printer columns show in kubectl get', async () => {
    const name = 'node-columns';
    await admin.create<ENIPool>('enipools', {
      apiVersion: API_VERSION,
      kind: 'ENIPool',
      metadata: { name },
      spec: { nodeName: name, networkMode: 'alibaba-veth', provider: 'alibaba', instanceID: 'i-bp1columns0001', instanceType: 'ecs.g7.large', zone: 'cn-hangzhou-i' },
    });
    await admin.mergePatchStatus('enipools', name, { status: { counts: { enis: 2, freeIPs: 5, assignedIPs: 7, coolingIPs: 1 } } });
    const pools = await runKubectl(['get', 'enipools', name]);
    expect(header(pools)).toEqual(['NAME', 'INSTANCE', 'ZONE', 'ENIS', 'FREE', 'ASSIGNED', 'COOLING', 'AGE']);
    expect(pools.split('\n')[1]).toMatch(/^node-columns\s+i-bp1columns0001\s+cn-hangzhou-i\s+2\s+5\s+7\s+1\s+\S+/);
    const wide = await runKubectl(['get', 'pool', name, '-o', 'wide']);
    expect(header(wide)).toEqual(['NAME', 'INSTANCE', 'TYPE', 'ZONE', 'ENIS', 'FREE', 'ASSIGNED', 'COOLING', 'MODE', 'AGE']);

    await admin.create<NodeNetwork>('nodenetworks', { apiVersion: API_VERSION, kind: 'NodeNetwork', metadata: { name }, spec: { datapath: 'veth' } });
    await admin.mergePatchStatus('nodenetworks', name, { status: { counts: { ready: 4, failed: 1 }, capabilities: { ipvlan: false, kernelVersion: '6.1.0' } } });
    const nn = await runKubectl(['get', 'nn', name, '-o', 'wide']);
    expect(header(nn)).toEqual(['NAME', 'DATAPATH', 'READY', 'FAILED', 'IPVLAN', 'KERNEL', 'AGE']);
    expect(nn.split('\n')[1]).toMatch(/^node-columns\s+veth\s+4\s+1\s+false\s+6\.1\.0\s+/);

    await admin.create<NetworkMode>('networkmodes', {
      apiVersion: API_VERSION,
      kind: 'NetworkMode',
      metadata: { name: 'columns' },
      spec: {
        provider: { type: 'tencent', region: 'ap-guangzhou', credentialsSecretRef: { name: 'tc', namespace: 'eni-operator-system' } },
        subnets: ['subnet-3x5lf5q0'],
        securityGroups: ['sg-5x5lf5q0'],
        datapath: 'ipvlan',
      },
    });
    const nms = await runKubectl(['get', 'nm', 'columns']);
    expect(header(nms)).toEqual(['NAME', 'PROVIDER', 'REGION', 'DATAPATH', 'NODES', 'READY', 'AGE']);
    expect(nms.split('\n')[1]).toMatch(/^columns\s+tencent\s+ap-guangzhou\s+ipvlan\s+/);
    await admin.delete('networkmodes', 'columns');
    const all = await runKubectl(['get', 'eni-operator']); // the shared category
    expect(all).toContain('enipool.network.eni-operator.io/node-columns');
    await admin.delete('enipools', name);
    await admin.delete('nodenetworks', name);
  });

  test('an invalid ENI list entry in ENIPool status is rejected', async () => {
    const name = 'node-bad-status';
    await admin.create('enipools', {
      apiVersion: API_VERSION, kind: 'ENIPool', metadata: { name },
      spec: { nodeName: name, networkMode: 'x', provider: 'tencent', instanceID: 'ins-12345678' },
    });
    const err = await admin
      .mergePatchStatus('enipools', name, { status: { enis: [{ id: 'eni-1', role: 'shared', ips: [{ address: '10.0.0.300', state: 'free' }] }] } })
      .then(() => undefined, (e: unknown) => apiError(e));
    expect(err?.code).toBe(422);
    expect(err?.message).toContain('status.enis[0].ips[0].address');
    await admin.delete('enipools', name);
  });
});

describe('RBAC identities', () => {
  const agent = new Resources('agent');
  const controller = new Resources('controller');

  test('the agent reads NodeNetworks and writes their status, and nothing else', async () => {
    const name = 'rbac-node';
    await admin.create('nodenetworks', { apiVersion: API_VERSION, kind: 'NodeNetwork', metadata: { name }, spec: { datapath: 'veth' } });
    await expect(agent.get<NodeNetwork>('nodenetworks', name)).resolves.toMatchObject({ spec: { datapath: 'veth' } });
    const patched = await agent.mergePatchStatus<NodeNetwork>('nodenetworks', name, { status: { capabilities: { ipvlan: false } } });
    expect(patched.status?.capabilities?.ipvlan).toBe(false);
    // Spec belongs to the controller.
    expect(await agent.mergePatch('nodenetworks', name, { spec: { datapath: 'ipvlan' } }).then(() => 200, (e: unknown) => apiError(e).code)).toBe(403);
    expect(await agent.get('enipools', 'anything').then(() => 200, (e: unknown) => apiError(e).code)).toBe(403);
    const core = kubeConfig('agent').makeApiClient(k8s.CoreV1Api);
    expect(await core.listSecretForAllNamespaces().then(() => 200, (e: unknown) => apiError(e).code)).toBe(403);
    await admin.delete('nodenetworks', name);
  });

  test('the controller writes pools and plans but cannot edit NetworkModes', async () => {
    const name = 'rbac-controller';
    await controller.create('enipools', {
      apiVersion: API_VERSION, kind: 'ENIPool', metadata: { name },
      spec: { nodeName: name, networkMode: 'x', provider: 'alibaba', instanceID: 'i-rbac' },
    });
    await controller.mergePatchStatus('enipools', name, { status: { counts: { freeIPs: 1 } } });
    await controller.create('nodenetworks', { apiVersion: API_VERSION, kind: 'NodeNetwork', metadata: { name }, spec: { datapath: 'veth' } });
    const create = await controller
      .create('networkmodes', { apiVersion: API_VERSION, kind: 'NetworkMode', metadata: { name }, spec: {} })
      .then(() => 200, (e: unknown) => apiError(e).code);
    expect(create).toBe(403);
    const core = kubeConfig('controller').makeApiClient(k8s.CoreV1Api);
    await expect(core.listNode()).resolves.toBeDefined();
    await controller.delete('enipools', name);
    await controller.delete('nodenetworks', name);
  });
});
