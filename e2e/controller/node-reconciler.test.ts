// The node reconciler against the real API server (as the controller's own
// identity, so RBAC is exercised) and the cloud emulator (through the real
// provider). Stores are filled from the API server before each reconcile.
import * as k8s from '@kubernetes/client-node';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NetworkMode } from '../../src/api/networkmode.js';
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { createProvider } from '../../src/cloud/factory.js';
import type { CloudProvider } from '../../src/cloud/types.js';
import { CRClient, EventRecorder, POD_NETWORK_CONDITION, PodConditions } from '../../src/controller/kube.js';
import { NodeReconciler } from '../../src/controller/node-reconciler.js';
import type { SimENI } from '../../src/cloudsim/world.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';
import { POD_SUBNETS, createEmulatedMode, createNodes, createPodNamespace, removeScenario } from '../harness/scenario.js';
import { Resources, kubeConfig } from '../harness/cluster.js';

const NS = 'nr-test';
const admin = new Resources('admin');
const core = () => kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
const scope = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };

let sim: Cloudsim;
let reconciler: NodeReconciler;
let cloud: CloudProvider;
const store = { nodes: new Map<string, k8s.V1Node>(), pods: [] as k8s.V1Pod[], modes: [] as NetworkMode[] };

async function refresh(): Promise<void> {
  store.nodes = new Map((await core().listNode()).items.map((n) => [n.metadata!.name!, n]));
  store.pods = (await core().listPodForAllNamespaces()).items;
  store.modes = (await new CRClient(kubeConfig('admin')).list<NetworkMode>('networkmodes'));
}

/** Reconciles until the node asks for nothing sooner than `quietMs`. */
async function settle(node: string, quietMs = 1000): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await refresh();
    const { requeueAfter } = await reconciler.reconcile(node);
    // The pool filler's cloud calls run after the reconcile: wait for them, then look again.
    if (await reconciler.idle(node)) continue;
    if (requeueAfter === undefined || requeueAfter >= quietMs) return;
    await new Promise((r) => setTimeout(r, Math.min(requeueAfter, 300)));
  }
  throw new Error(`node ${node} did not settle`);
}

const pool = (node: string) => admin.get<ENIPool>('enipools', node);
const plan = (node: string) => admin.get<NodeNetwork>('nodenetworks', node);


function pod(name: string, node: string, exclusive = false): k8s.V1Pod {
  return {
    metadata: { name, namespace: NS, ...(exclusive ? { annotations: { 'network.eni-operator.io/eni-mode': 'exclusive' } } : {}) },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'example.invalid/echo:1' }] },
  };
}

/** What the cloud says each ENI of an instance holds, against what the ledger says. */
function cloudMatchesLedger(instance: string, ledger: ENIPool): void {
  const inCloud = sim.world.describeENIs(scope, { instanceId: instance, primary: false }).map((e: SimENI) => ({ id: e.id, ips: [e.primaryIP, ...e.secondaryIPs].sort() }));
  const inLedger = (ledger.status?.enis ?? []).map((e) => ({ id: e.id, ips: (e.ips ?? []).map((ip) => ip.address).sort() }));
  expect(inLedger.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(inCloud.sort((a, b) => (a.id < b.id ? -1 : 1)));
}

beforeAll(async () => {
  sim = await startCloudsim();
  const creds = sim.credentials('alibaba');
  cloud = await createProvider('alibaba', { region: 'cn-hangzhou', credentials: creds, endpoint: { host: sim.host, insecure: true }, rateLimit: { qps: 100, burst: 100 }, poll: { initialMs: 20, maxMs: 100, deadlineMs: 10_000 } });
  const kc = kubeConfig('controller');
  reconciler = new NodeReconciler({
    cr: new CRClient(kc),
    events: new EventRecorder(kc, 'eni-operator-controller', (err) => {
      throw err;
    }),
    podConditions: new PodConditions(kc, (err) => {
      throw err;
    }),
    nodes: { get: (n) => store.nodes.get(n) },
    pods: { onNode: (n) => store.pods.filter((p) => p.spec?.nodeName === n) },
    modes: { list: () => store.modes },
    cloudFor: () => Promise.resolve(cloud),
    clusterID: 'it-cluster',
    releaseGraceMs: 60_000,
    resyncMs: 60_000,
    now: () => Date.now(),
    log: { info: () => undefined, warn: () => undefined },
  });
  await createPodNamespace(NS);
  await createEmulatedMode('nr', sim.host, {
    subnets: [POD_SUBNETS.zoneI, POD_SUBNETS.zoneJ, POD_SUBNETS.smallI],
    exclusive: { enabled: true, warmENIs: 0 },
    pool: { warmIPs: 4, maxIdleIPs: 6, cooldown: '1s', reclaimAfter: '2s' },
  });
  await createNodes('nr', [
    { name: 'nr-1', instance: 'i-bp1simnode000000001' },
    { name: 'nr-2', instance: 'i-bp1simnode000000002' },
    { name: 'nr-3', instance: 'i-bp1simnode000000003' },
  ]);
}, 60_000);

afterAll(async () => {
  // Leave nothing a later test's controller would try to reconcile.
  await removeScenario('nr', ['nr-1', 'nr-2', 'nr-3'], NS);
  await sim?.close();
});

test('three nodes onboard and converge to their warm targets; the ledger equals the cloud', async () => {
  for (const n of ['nr-1', 'nr-2', 'nr-3']) await settle(n);
  for (const [n, inst, zone] of [['nr-1', 'i-bp1simnode000000001', 'cn-hangzhou-i'], ['nr-3', 'i-bp1simnode000000003', 'cn-hangzhou-j']] as const) {
    const p = await pool(n);
    expect(p.spec).toMatchObject({ instanceID: inst, zone, networkMode: 'nr' });
    expect(p.spec.limits).toEqual(n === 'nr-3' ? { maxENIs: 3, ipsPerENI: 6 } : { maxENIs: 4, ipsPerENI: 15 });
    expect(p.status?.counts?.freeIPs).toBeGreaterThanOrEqual(4);
    expect(p.status?.counts?.freeIPs).toBeLessThanOrEqual(6);
    expect(p.status?.conditions?.find((c) => c.type === 'IPsAvailable')?.status).toBe('True');
    // Subnets of the node's zone only, the roomiest first.
    for (const e of p.status?.enis ?? []) expect(e.subnetID).toBe(zone === 'cn-hangzhou-i' ? 'vsw-bp1simpodsi000001' : 'vsw-bp1simpodsj000001');
    cloudMatchesLedger(inst, p);
    expect((await plan(n)).spec.attachments ?? []).toEqual([]);
  }
}, 60_000);

test('a burst of 40 pods on one node all get distinct addresses, in the ledger and in the plan; host-network pods get none', async () => {
  const names = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
  const hostPod = pod('on-host-network', 'nr-1');
  hostPod.spec!.hostNetwork = true;
  await Promise.all([...names.map((n) => core().createNamespacedPod({ namespace: NS, body: pod(n, 'nr-1') })), core().createNamespacedPod({ namespace: NS, body: hostPod })]);
  await settle('nr-1');
  const attachments = (await plan('nr-1')).spec.attachments ?? [];
  expect(attachments).toHaveLength(40);
  expect(attachments.some((a) => a.name === 'on-host-network')).toBe(false);
  expect(new Set(attachments.map((a) => a.ip)).size).toBe(40);
  expect(attachments.every((a) => a.mode === 'veth' && /^10\.0\.(1[6-9]|2\d|3[01])\.\d+\/20$/.test(a.ip) && a.gateway === '10.0.31.253' && /^00:16:3e:/.test(a.mac))).toBe(true);
  const p = await pool('nr-1');
  expect(p.status?.counts?.assignedIPs).toBe(40);
  cloudMatchesLedger('i-bp1simnode000000001', p);
  // Events go out in the background, two at a time.
  let allocated = 0;
  for (let i = 0; i < 100 && allocated < 40; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    allocated = (await core().listNamespacedEvent({ namespace: NS })).items.filter((e) => e.reason === 'Allocated').length;
  }
  expect(allocated).toBeGreaterThanOrEqual(40);
}, 120_000);

test('a deleted pod keeps its address until the agent reports Released, then after cooldown it is free again', async () => {
  const victim = (await core().readNamespacedPod({ namespace: NS, name: 'burst-0' })).metadata!.uid!;
  const address = ((await plan('nr-1')).spec.attachments ?? []).find((a) => a.podUID === victim)!.ip.split('/')[0];
  await core().deleteNamespacedPod({ namespace: NS, name: 'burst-0', gracePeriodSeconds: 0 });
  await settle('nr-1', 500);
  const held = (await pool('nr-1')).status!.enis!.flatMap((e) => e.ips ?? []).find((ip) => ip.address === address)!;
  expect(held).toMatchObject({ state: 'assigned', podUID: victim }); // the agent has not said it is torn down
  await new Resources('agent').mergePatchStatus('nodenetworks', 'nr-1', { status: { attachments: [{ podUID: victim, state: 'Released' }] } });
  await settle('nr-1', 500);
  const cooling = (await pool('nr-1')).status!.enis!.flatMap((e) => e.ips ?? []).find((ip) => ip.address === address)!;
  expect(cooling.state).toBe('cooldown');
  expect(((await plan('nr-1')).spec.attachments ?? []).some((a) => a.podUID === victim)).toBe(false);
  await new Promise((r) => setTimeout(r, 1100));
  await settle('nr-1', 5000);
  const after = (await pool('nr-1')).status!.enis!.flatMap((e) => e.ips ?? []).find((ip) => ip.address === address);
  // Free again, or already given back to the cloud as excess: never straight to another pod.
  if (after) expect(after.state).toBe('free');
}, 60_000);

test('a plan written ahead of its ledger (a crash between the two writes) is taken back into the ledger, address for address', async () => {
  await settle('nr-3');
  const before = await pool('nr-3');
  const eni = before.status!.enis!.find((e) => e.role === 'shared' && (e.ips ?? []).some((ip) => ip.state === 'free'))!;
  // The free address allocation would pick last: the one taken must be the plan's, not a fresh choice.
  const free = (eni.ips ?? []).filter((ip) => ip.state === 'free').map((ip) => ip.address);
  const address = free[free.length - 1]!;
  const created = await core().createNamespacedPod({ namespace: NS, body: pod('ahead', 'nr-3') });
  const uid = created.metadata!.uid!;
  const prefix = eni.subnetCIDR!.split('/')[1];
  const attachments = [...((await plan('nr-3')).spec.attachments ?? []), { podUID: uid, namespace: NS, name: 'ahead', mode: 'veth', ip: `${address}/${prefix}`, gateway: eni.gateway!, eniID: eni.id, mac: eni.mac! }];
  await admin.mergePatch('nodenetworks', 'nr-3', { spec: { attachments } });
  await settle('nr-3');
  const ips = (await pool('nr-3')).status!.enis!.flatMap((e) => e.ips ?? []);
  expect(ips.filter((ip) => ip.podUID === uid)).toEqual([expect.objectContaining({ address, state: 'assigned' })]);
  expect(((await plan('nr-3')).spec.attachments ?? []).filter((a) => a.podUID === uid).map((a) => a.ip)).toEqual([`${address}/${prefix}`]);
  await core().deleteNamespacedPod({ namespace: NS, name: 'ahead', gracePeriodSeconds: 0 });
}, 60_000);

test('an exclusive pod gets an ENI of its own while shared pods keep theirs; a bad annotation is an Event and a condition until fixed', async () => {
  const before = (await plan('nr-2')).spec.attachments ?? [];
  await core().createNamespacedPod({ namespace: NS, body: pod('shared-a', 'nr-2') });
  await core().createNamespacedPod({ namespace: NS, body: pod('db-0', 'nr-2', true) });
  const bad = pod('typo', 'nr-2');
  bad.metadata!.annotations = { 'network.eni-operator.io/eni-mode': 'exclusiv' };
  await core().createNamespacedPod({ namespace: NS, body: bad });
  await settle('nr-2');
  const attachments = (await plan('nr-2')).spec.attachments ?? [];
  expect(attachments.length).toBe(before.length + 2);
  const db = attachments.find((a) => a.name === 'db-0')!;
  const shared = attachments.find((a) => a.name === 'shared-a')!;
  expect(db.mode).toBe('exclusive');
  expect(shared.mode).toBe('veth');
  expect(db.eniID).not.toBe(shared.eniID);
  expect(attachments.filter((a) => a.eniID === db.eniID)).toHaveLength(1);
  const eni = sim.world.describeENIs(scope, { ids: [db.eniID] })[0]!;
  expect(eni).toMatchObject({ instanceId: 'i-bp1simnode000000002', status: 'InUse', primaryIP: db.ip.split('/')[0] });
  const warnings = (await core().listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name === 'typo');
  expect(warnings.map((e) => e.reason)).toContain('InvalidAnnotation');
  expect(attachments.some((a) => a.name === 'typo')).toBe(false);
  const condition = async () => (await core().readNamespacedPodStatus({ name: 'typo', namespace: NS })).status?.conditions?.find((c) => c.type === POD_NETWORK_CONDITION);
  expect(await condition()).toMatchObject({ status: 'False', reason: 'InvalidAnnotation', message: expect.stringContaining('"exclusiv" is not valid') as string });

  // Fixed by the user: allocated, and the condition turns True.
  await core().patchNamespacedPod({ name: 'typo', namespace: NS, body: { metadata: { annotations: { 'network.eni-operator.io/eni-mode': 'shared' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await settle('nr-2');
  expect((await plan('nr-2')).spec.attachments?.some((a) => a.name === 'typo')).toBe(true);
  // The condition is written in the background, after the plan.
  let now = await condition();
  for (let i = 0; i < 50 && now?.status !== 'True'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await condition();
  }
  expect(now).toMatchObject({ status: 'True', reason: 'Allocated' });
}, 60_000);

test('a small subnet exhausts and the pool moves on; with every subnet out, a condition says so', async () => {
  const scopeI = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };
  // Someone else takes every address of the big subnet of zone i.
  const avail = () => sim.world.describeSubnets(scopeI, { ids: ['vsw-bp1simpodsi000001'] })[0]!.availableIPs;
  for (let left = avail(); left > 0; left = avail()) {
    sim.world.createENI(scopeI, { subnetId: 'vsw-bp1simpodsi000001', securityGroupIds: ['sg-bp1simpods00000001'], secondaryIPCount: Math.min(left, 50) - 1 });
  }
  expect(sim.world.describeSubnets(scopeI, { ids: ['vsw-bp1simpodsi000001'] })[0]!.availableIPs).toBe(0);
  const names = Array.from({ length: 30 }, (_, i) => `fill-${i}`);
  await Promise.all(names.map((n) => core().createNamespacedPod({ namespace: NS, body: pod(n, 'nr-2') })));
  await settle('nr-2', 4000);
  const p = await pool('nr-2');
  const subnetsUsed = new Set((p.status?.enis ?? []).map((e) => e.subnetID));
  expect(subnetsUsed.has('vsw-bp1simsmalli00001')).toBe(true);
  expect(p.status?.conditions?.find((c) => c.type === 'SubnetExhausted')?.status).toBe('True');
  const waiting = (await core().listNamespacedEvent({ namespace: NS })).items.filter((e) => e.reason === 'AllocationFailed' && names.includes(e.involvedObject.name!));
  expect(waiting.length).toBeGreaterThan(0);
  cloudMatchesLedger('i-bp1simnode000000002', p);
}, 90_000);
