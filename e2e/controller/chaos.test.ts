// Chaos: pods come and go on 5 nodes while the cloud throttles 20% of calls
// and fails 5% more, and the controller is killed with SIGKILL ten times (once
// during a failover between two replicas). At the end every live pod has
// exactly one address, no address is planned twice, the cloud equals the
// ledgers, and after garbage collection nothing this cluster made is leaked.
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { TAGS } from '../../src/controller/cloud-sync.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';
import { createEmulatedMode, createNodes, createPodNamespace, removeScenario } from '../harness/scenario.js';
import { Resources, controlPlane, kubeConfig } from '../harness/cluster.js';
import { repoPath } from '../harness/paths.js';

const NS = 'chaos';
const CLUSTER = 'chaos-cluster';
// Pods each node can hold (veth uses every IP): (ENIs − 1) × IPs per ENI of its type. The test places pods like a scheduler with max-pods would.
const CAPACITY = [45, 45, 12, 210, 45];
const NODES = [1, 2, 3, 4, 5].map((i) => ({ name: `chaos-${i}`, instance: `i-bp1simnode00000000${i}`, capacity: CAPACITY[i - 1]! }));
const CHURN_MS = Number(process.env.CHAOS_CHURN_MS ?? 40_000);
const admin = new Resources('admin');
const agent = new Resources('agent');
const core = () => kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
const scope = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };
let sim: Cloudsim;
const running = new Set<ChildProcess>();
let seq = 0;

function startReplica(): ChildProcess {
  const identity = `chaos-${++seq}`;
  const proc = spawn(
    process.execPath,
    [repoPath('dist/src/cmd/eni-operator.js'), 'controller', '--kubeconfig', controlPlane().kubeconfigs.controller, '--networkmode-selector', `eni-operator.io/scenario=chaos`, '--cluster-id', CLUSTER, '--listen', '127.0.0.1:0', '--identity', identity,
      '--release-grace', '60s', '--gc-interval', '1s', '--gc-grace', '4s', '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms', '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(join(tmpdir(), `eni-chaos-${identity}.log`));
  createInterface({ input: proc.stdout }).on('line', (l) => log.write(l + '\n'));
  createInterface({ input: proc.stderr }).on('line', (l) => log.write(l + '\n'));
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  return proc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plays the node agent: attachments of pods that are gone are reported Released. */
async function agentRound(): Promise<void> {
  const live = new Set((await core().listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata!.uid!));
  for (const { name } of NODES) {
    const nn = await admin.get<NodeNetwork>('nodenetworks', name).catch(() => undefined);
    if (!nn) continue;
    const released = (nn.spec.attachments ?? []).filter((a) => !live.has(a.podUID)).map((a) => ({ podUID: a.podUID, state: 'Released' as const }));
    const before = JSON.stringify(nn.status?.attachments ?? []);
    if (released.length && JSON.stringify(released) !== before) await agent.mergePatchStatus('nodenetworks', name, { status: { attachments: released } }).catch(() => undefined);
  }
}

beforeAll(async () => {
  sim = await startCloudsim();
  const ali = sim.credentials('alibaba');
  await core().createNamespacedSecret({ namespace: 'eni-operator-system', body: { metadata: { name: 'chaos-credentials' }, stringData: { accessKeyId: ali.id, accessKeySecret: ali.secret } } });
  await createPodNamespace(NS);
  await createEmulatedMode('chaos', sim.host, { secret: 'chaos-credentials', pool: { warmIPs: 3, maxIdleIPs: 6, cooldown: '1s', reclaimAfter: '3s' } });
  await createNodes('chaos', NODES);
  const flaky = { errorRate: 0.05, error: 'InternalError' };
  await sim.admin('PUT', 'faults', {
    seed: 42,
    actions: { '*': { errorRate: 0.2, error: 'Throttled' }, CreateNetworkInterface: flaky, AttachNetworkInterface: flaky, AssignPrivateIpAddresses: flaky, UnassignPrivateIpAddresses: flaky, DescribeNetworkInterfaces: flaky, DeleteNetworkInterface: flaky },
  });
}, 60_000);

afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await removeScenario('chaos', NODES.map((n) => n.name), NS);
  await sim?.close();
});

test('300 pods of churn, 10 SIGKILLs and a failover lose nothing and leak nothing', async () => {
  let leader = startReplica();
  // Ten kills at random moments of the churn; the fifth happens with a standby waiting.
  const kills = Array.from({ length: 10 }, () => 2000 + Math.random() * (CHURN_MS - 6000)).sort((a, b) => a - b);
  const started = Date.now();
  const live: { name: string; node: string }[] = [];
  let created = 0;
  let killed = 0;
  let lastAgent = 0;
  while (Date.now() - started < CHURN_MS || created < 300) {
    const t = Date.now() - started;
    // A replica that lost its lease on a loaded machine exits (by design); like a Deployment, start another.
    if (running.size === 0) leader = startReplica();
    if (killed < kills.length && t >= kills[killed]!) {
      if (killed === 4) {
        const standby = startReplica();
        await sleep(1500); // the standby is campaigning when the leader dies
        leader.kill('SIGKILL');
        leader = standby;
      } else {
        leader.kill('SIGKILL');
        leader = startReplica();
      }
      killed++;
    }
    const roomy = NODES.filter((n) => live.filter((p) => p.node === n.name).length < n.capacity - 4);
    if (created < 300 && roomy.length > 0 && (live.length < 40 || Math.random() < 0.55)) {
      const name = `p-${created++}`;
      const node = roomy[Math.floor(Math.random() * roomy.length)]!.name;
      await core().createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'example.invalid/x' }] } } });
      live.push({ name, node });
    } else if (live.length > 0) {
      const [gone] = live.splice(Math.floor(Math.random() * live.length), 1);
      await core().deleteNamespacedPod({ namespace: NS, name: gone!.name, gracePeriodSeconds: 0 });
    }
    if (Date.now() - lastAgent > 300) {
      await agentRound();
      lastAgent = Date.now();
    }
    await sleep(Math.max(20, CHURN_MS / 500));
  }
  expect(killed).toBe(10);

  // Calm: the cloud stops failing, the agent keeps releasing, the controller catches up.
  await sim.admin('DELETE', 'faults');
  const livePods = async () => (await core().listNamespacedPod({ namespace: NS })).items;
  let plans: NodeNetwork[];
  const deadline = Date.now() + 90_000;
  for (;;) {
    // A replica that lost its lease exits (by design); like a Deployment, start another.
    if (running.size === 0) startReplica();
    await agentRound();
    const pods = await livePods();
    plans = await Promise.all(NODES.map((n) => admin.get<NodeNetwork>('nodenetworks', n.name)));
    const attachments = plans.flatMap((p) => p.spec.attachments ?? []);
    const uids = new Set(pods.map((p) => p.metadata!.uid!));
    if (attachments.length === pods.length && attachments.every((a) => uids.has(a.podUID))) break;
    if (Date.now() > deadline) throw new Error(`no calm: ${pods.length} live pods, ${attachments.length} attachments`);
    await sleep(500);
  }
  const pods = await livePods();
  const attachments = plans.flatMap((p) => p.spec.attachments ?? []);
  // Every live pod has exactly one address; no address is planned twice.
  expect(new Set(attachments.map((a) => a.podUID)).size).toBe(pods.length);
  expect(new Set(attachments.map((a) => a.ip)).size).toBe(attachments.length);
  for (const p of pods) {
    const mine = attachments.filter((a) => a.podUID === p.metadata!.uid);
    expect(mine).toHaveLength(1);
    expect(plans.find((nn) => (nn.spec.attachments ?? []).includes(mine[0]!))!.metadata.name).toBe(p.spec!.nodeName);
  }

  // After the orphans' grace and a GC round, the cloud holds exactly what the ledgers say.
  await sleep(7000);
  const pools = await Promise.all(NODES.map((n) => admin.get<ENIPool>('enipools', n.name)));
  for (const [i, n] of NODES.entries()) {
    const ledger = (pools[i]!.status?.enis ?? []).map((e) => ({ id: e.id, ips: (e.ips ?? []).map((ip) => ip.address).sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const cloud = sim.world.describeENIs(scope, { instanceId: n.instance, primary: false }).map((e) => ({ id: e.id, ips: [e.primaryIP, ...e.secondaryIPs].sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(ledger).toEqual(cloud);
  }
  const known = new Set(pools.flatMap((p) => (p.status?.enis ?? []).map((e) => e.id)));
  const leaked = sim.world.describeENIs(scope, { tags: { [TAGS.cluster]: CLUSTER } }).filter((e) => !known.has(e.id));
  expect(leaked.map((e) => `${e.id} (${e.status}, ${e.instanceId ?? 'detached'})`)).toEqual([]);
  // And the ledgers agree with the plans: assigned addresses are exactly the planned ones.
  const assigned = pools.flatMap((p) => (p.status?.enis ?? []).flatMap((e) => (e.ips ?? []).filter((ip) => ip.state === 'assigned').map((ip) => ip.address)));
  expect(assigned.sort()).toEqual(attachments.map((a) => a.ip.split('/')[0]!).sort());
}, 240_000);
