// Garbage collection against the API server and the emulator: orphans of
// this cluster go after the grace period, untagged ENIs are never touched,
// and a deleted node's ENIs go back to the cloud.
import * as k8s from '@kubernetes/client-node';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NetworkMode } from '../../src/api/networkmode.js';
import { createProvider } from '../../src/cloud/factory.js';
import type { CloudProvider } from '../../src/cloud/types.js';
import { eniTags } from '../../src/controller/cloud-sync.js';
import { GarbageCollector } from '../../src/controller/gc.js';
import { CRClient, EventRecorder, POOL_FINALIZER } from '../../src/controller/kube.js';
import { NodeReconciler } from '../../src/controller/node-reconciler.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';
import { POD_SUBNETS, createEmulatedMode, createNodes, removeScenario } from '../harness/scenario.js';
import { Resources, kubeConfig } from '../harness/cluster.js';

const admin = new Resources('admin');
const core = () => kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
const scope = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };
const CLUSTER = 'gc-cluster';
let sim: Cloudsim;
let cloud: CloudProvider;
const store = { nodes: new Map<string, k8s.V1Node>(), modes: [] as NetworkMode[], pools: [] as ENIPool[] };
let now = Date.now();

async function refresh(): Promise<void> {
  store.nodes = new Map((await core().listNode()).items.map((n) => [n.metadata!.name!, n]));
  const cr = new CRClient(kubeConfig('admin'));
  store.modes = await cr.list<NetworkMode>('networkmodes');
  store.pools = await cr.list<ENIPool>('enipools');
}

function collector(graceMs: number): GarbageCollector {
  return new GarbageCollector({
    cr: new CRClient(kubeConfig('controller')),
    nodes: { get: (n) => store.nodes.get(n) },
    pools: { list: () => store.pools.filter((p) => p.spec.networkMode === 'gc') },
    modes: { list: () => store.modes.filter((m) => m.metadata.name === 'gc') },
    cloudFor: () => Promise.resolve(cloud),
    clusterID: CLUSTER,
    graceMs,
    now: () => now,
    log: { info: () => undefined, warn: () => undefined },
  });
}

beforeAll(async () => {
  sim = await startCloudsim();
  cloud = await createProvider('alibaba', { region: 'cn-hangzhou', credentials: sim.credentials('alibaba'), endpoint: { host: sim.host, insecure: true }, rateLimit: { qps: 100, burst: 100 }, poll: { initialMs: 20, maxMs: 100, deadlineMs: 10_000 } });
  await createEmulatedMode('gc', sim.host, { subnets: [POD_SUBNETS.zoneI], pool: { warmIPs: 3 } });
  await createNodes('gc', [{ name: 'gc-1', instance: 'i-bp1simnode000000002' }]);
}, 60_000);

afterAll(async () => {
  await removeScenario('gc', ['gc-1']);
  await sim?.close();
});

test('orphans of this cluster go after the grace period; untagged and foreign ENIs stay', async () => {
  const orphan = sim.world.createENI(scope, { subnetId: 'vsw-bp1simpodsi000001', securityGroupIds: ['sg-bp1simpods00000001'], tags: eniTags(CLUSTER, 'gone-node', 'shared') });
  const untagged = sim.world.createENI(scope, { subnetId: 'vsw-bp1simpodsi000001', securityGroupIds: ['sg-bp1simpods00000001'] });
  const foreign = sim.world.createENI(scope, { subnetId: 'vsw-bp1simpodsi000001', securityGroupIds: ['sg-bp1simpods00000001'], tags: eniTags('another-cluster', 'n', 'shared') });
  await refresh();
  const gc = collector(60_000);
  expect(await gc.run()).toEqual({ deletedENIs: [], deletedPools: [], waiting: 1, failed: [] }); // seen, not yet deleted
  now += 61_000;
  expect((await gc.run()).deletedENIs).toEqual([orphan.id]);
  const left = sim.world.describeENIs(scope, { ids: [orphan.id, untagged.id, foreign.id] }).map((e) => e.id);
  expect(left.sort()).toEqual([untagged.id, foreign.id].sort());
}, 60_000);

test('a deleted node gives its ENIs back to the cloud before its ENIPool and NodeNetwork go', async () => {
  const kc = kubeConfig('controller');
  const reconciler = new NodeReconciler({
    cr: new CRClient(kc),
    events: new EventRecorder(kc, 'test'),
    nodes: { get: (n) => store.nodes.get(n) },
    pods: { onNode: () => [] },
    modes: { list: () => store.modes.filter((m) => m.metadata.name === 'gc') },
    cloudFor: () => Promise.resolve(cloud),
    clusterID: CLUSTER,
    releaseGraceMs: 1000,
    resyncMs: 60_000,
    now: () => Date.now(),
    log: { info: () => undefined, warn: () => undefined },
  });
  await refresh();
  for (let i = 0; i < 5; i++) {
    await reconciler.reconcile('gc-1');
    await reconciler.idle('gc-1');
  }
  const pool = await admin.get<ENIPool>('enipools', 'gc-1');
  const enis = (pool.status?.enis ?? []).map((e) => e.id);
  expect(enis.length).toBeGreaterThan(0);
  expect(pool.metadata.finalizers).toContain(POOL_FINALIZER);
  await core().deleteNode({ name: 'gc-1' });
  // Kubernetes' garbage collector deletes the ENIPool with its Node; do it here too, whoever is first:
  // the finalizer keeps the ledger until the ENIs are back.
  await admin.delete('enipools', 'gc-1').catch(() => undefined);
  const held = await admin.get<ENIPool>('enipools', 'gc-1');
  expect(held.metadata.deletionTimestamp).toBeDefined();
  expect((held.status?.enis ?? []).map((e) => e.id).sort()).toEqual([...enis].sort());
  await refresh();
  const report = await collector(60_000).run();
  expect(report.deletedPools).toEqual(['gc-1']);
  expect(report.deletedENIs.sort()).toEqual([...enis].sort());
  expect(sim.world.describeENIs(scope, { ids: enis })).toEqual([]);
  expect(await admin.get('enipools', 'gc-1').then(() => 200, () => 404)).toBe(404);
  expect(await admin.get('nodenetworks', 'gc-1').then(() => 200, () => 404)).toBe(404);
}, 60_000);
