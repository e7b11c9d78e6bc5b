// Chaos for the node agent: 100 pods (shared, and every tenth exclusive) come
// and go on two nodes while each node's agent is killed with SIGKILL five
// times at random moments (once in a CNI request, once for longer than the
// controller's release grace, once again during its restart) and restarted,
// with no periodic repair to fall back on. Afterwards every live pod is
// Running, planned, reported Ready and reachable over TCP and UDP from another
// pod and from the nodes; nothing of a deleted pod is left on its node (links,
// rules, routes, proxy or permanent neighbours, pod namespace); exclusive ENIs
// of deleted pods are back in the node namespace under their own name, down
// and bare; the node namespaces hold exactly the agent objects the live pods
// need; the cloud equals the ENIPool ledgers; the agents' metrics and logs are
// sane. AGENT_CHAOS_SEED replays a run's choices (not its timing).
import type { ENIPool } from '../../src/api/enipool.js';
import type { Attachment, NodeNetwork } from '../../src/api/nodenetwork.js';
import { exclusiveHostName, vethHostName } from '../../src/agent/datapath/names.js';
import { Resources } from '../harness/cluster.js';
import { listNetns } from '../kubelet/netns.js';
import { agentObjects, expectedObjects, ipv4Of, isExclusiveMarked, mentionsOf, readInventory, type Inventory } from './inventory.js';
import { AgentCluster, eventually, SCOPE, sleep, type ProbeResult, type SimNode } from './kit.js';

const SEED = Number(process.env.AGENT_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CHURN_MS = Number(process.env.AGENT_CHAOS_CHURN_MS ?? 45_000);
const PODS = 100;
/** Live pods per node at most: node 1 (4 ENIs of 15 IPs) and node 2 (8 ENIs of 30 IPs). */
const ROOM = [
  { shared: 10, exclusive: 1 },
  { shared: 14, exclusive: 2 },
];

/** mulberry32: a small seeded PRNG, so that a failing run's choices can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

interface TrackedPod {
  name: string;
  node: SimNode;
  exclusive: boolean;
  uid: string;
  deleted: boolean;
  /** Never deleted: the exclusive pod that must be alive at the end. */
  keep: boolean;
}

let c: AgentCluster;
const cr = new Resources('admin');

beforeAll(async () => {
  process.stdout.write(`agent chaos: seed ${SEED} (AGENT_CHAOS_SEED=${SEED} replays its choices)\n`);
  // No periodic repair during the test: the agents must clean up on their start and on plan changes.
  c = await AgentCluster.start({ scenario: 'agchaos', prefix: 'agchaos', instances: ['i-bp1simnode000000001', 'i-bp1simnode000000004'], repairInterval: '1h' });
}, 120_000);

let passed = false;
afterAll(async () => {
  await c?.stop({ keepLogs: !passed || process.env.AGENT_CHAOS_KEEP_LOGS === '1' });
}, 120_000);

const t0 = Date.now();
const note = (msg: string) => process.stdout.write(`[agent chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

const failures = (results: ProbeResult[]) => results.filter((r) => !r.ok).map((r) => `${r.proto} ${r.target}: ${r.error ?? 'failed'}`);
const uid12 = (uid: string) => uid.replace(/-/g, '').slice(0, 12);

async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

test('100 pods of churn on two nodes with ten SIGKILLs of their agents leave every live pod reachable and nothing of the deleted ones', async () => {
  const pods = new Map<string, TrackedPod>();
  /** Every attachment the plans ever named, by pod UID: the IP, mode and ENI of pods deleted since. */
  const seen = new Map<string, { node: string; attachment: Attachment }>();
  /** Nodes whose agent is being killed: no exclusive pod is created or deleted there meanwhile (see the note below). */
  const down = new Set<SimNode>();
  const live = () => [...pods.values()].filter((p) => !p.deleted);
  const started = Date.now();
  let churning = true;
  const kills: { node: string; kind: string; at: number; downMs: number; midRequest: boolean }[] = [];
  /** Whether a CNI request got in flight at the node's agent within 5 s. */
  const inFlight = async (node: SimNode) => {
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(10)) {
      if (/^eni_operator_cni_requests_in_flight [1-9]/m.test(await c.agentMetrics(node).catch(() => ''))) return true;
    }
    return false;
  };

  const recorder = (async () => {
    while (churning) {
      for (const n of c.nodes) {
        const nn = await cr.get<NodeNetwork>('nodenetworks', n.name).catch(() => undefined);
        for (const a of nn?.spec.attachments ?? []) seen.set(a.podUID, { node: n.name, attachment: a });
      }
      await sleep(200);
    }
  })();

  // Creations keep pace with PODS over CHURN_MS; deletions keep about a dozen pods alive (and
  // make room when a node is full).
  const churn = (async () => {
    let created = 0;
    let exclusives = 0;
    const room = (n: SimNode, excl: boolean) => {
      const mine = live().filter((p) => p.node === n && p.exclusive === excl).length;
      const i = c.nodes.indexOf(n);
      return mine < (excl ? ROOM[i]!.exclusive : ROOM[i]!.shared) && !(excl && down.has(n));
    };
    while (Date.now() - started < CHURN_MS || created < PODS) {
      if (Date.now() - started > 3 * CHURN_MS) throw new Error(`churn stuck: ${created} pods created, ${live().length} live`);
      let full = false;
      if (created < Math.min(PODS, (PODS * (Date.now() - started)) / CHURN_MS + 1)) {
        // Every tenth pod is exclusive; when no node has room for one (or is being killed), a later pod is.
        // The first exclusive pod goes to node 1 and the last ones to node 2 (kept alive), so that the
        // end has an exclusive ENI back from a pod and one in a live pod.
        const late = created >= PODS - 10;
        const eligible = (n: SimNode) => room(n, true) && !(late && n !== c.nodes[1]);
        const excl = exclusives < Math.floor((created + 5) / 10) && c.nodes.some(eligible);
        const candidates = c.nodes.filter((n) => (excl ? eligible(n) : room(n, false)));
        if (candidates.length > 0) {
          const node = excl && exclusives === 0 && candidates.includes(c.nodes[0]!) ? c.nodes[0]! : pick(candidates);
          if (excl) exclusives++;
          const name = `c${String(created).padStart(3, '0')}${excl ? 'x' : ''}`;
          const pod = await c.createPod(name, node, excl);
          pods.set(name, { name, node, exclusive: excl, uid: pod.metadata!.uid!, deleted: false, keep: excl && late });
          if (++created % 20 === 0) note(`${created} pods created, ${live().length} live`);
        } else full = true;
      }
      const now = live();
      if (full || (now.length > 10 && rand() < (now.length - 10) / 3)) {
        const victims = now.filter((p) => !p.keep && !(p.exclusive && down.has(p.node)));
        if (victims.length > 0) {
          const victim = pick(victims);
          victim.deleted = true;
          await c.deletePod(victim.name);
        }
      }
      await sleep(150);
    }
  })();

  // An exclusive pod's ENI is a veth of the fabric, not a real NIC: a namespace
  // that dies holding it destroys it instead of handing it back to the node as
  // the kernel does with hardware. That happens when the kubelet removes a pod
  // namespace while the agent is down (DEL to a dead agent succeeds, by design)
  // or after an ADD the kill cut short. So kills wait until the node's
  // exclusive pods are settled, and none is created or deleted there meanwhile.
  const exclusiveSettled = (node: SimNode) =>
    eventually(`exclusive pods of ${node.name} settled`, async () => {
      for (const p of [...pods.values()].filter((x) => x.exclusive && x.node === node)) {
        const pod = await c.pod(p.name);
        if (p.deleted ? pod?.metadata?.uid === p.uid : pod?.status?.phase !== 'Running') return undefined;
      }
      return true;
    }, 60_000, 200);

  // Per node, one kill of each kind, at random moments: at any moment; in the middle of a CNI
  // request (waits up to 5 s for one); down longer than the controller's release grace (5 s), so
  // that plans drop pods the agent never saw go; and again during the restart (start-up repair).
  const KINDS = ['any', 'mid-request', 'long', 'restart'] as const;
  const schedule = c.nodes
    .flatMap((node) => KINDS.map((kind) => ({ node, kind, at: 3000 + rand() * (CHURN_MS - 10_000), downMs: kind === 'long' ? 6000 + Math.floor(rand() * 2000) : 200 + Math.floor(rand() * 1500) })))
    .sort((a, b) => a.at - b.at);
  /** Runs killed before they were ready: `node#run`. */
  const killedStarting = new Set<string>();
  const chaos = (async () => {
    for (const k of schedule) {
      await sleep(k.at - (Date.now() - started));
      // One kill at a time: a late turn goes as soon as the previous restart is done.
      down.add(k.node);
      await exclusiveSettled(k.node);
      const midRequest = k.kind === 'mid-request' && (await inFlight(k.node));
      await c.killAgent(k.node);
      kills.push({ node: k.node.name, kind: k.kind, at: Date.now() - started, downMs: k.downMs, midRequest });
      note(`killed the agent of ${k.node.name} (run ${k.node.agentRuns}, ${k.kind}${midRequest ? ', a CNI request in flight' : ''}); down for ${k.downMs} ms`);
      await sleep(k.downMs);
      if (k.kind === 'restart') {
        await c.startAgent(k.node, { until: 'starting' });
        await sleep(Math.floor(rand() * 300));
        await c.killAgent(k.node);
        killedStarting.add(`${k.node.name}#${k.node.agentRuns}`);
        note(`killed the agent of ${k.node.name} again while it started (run ${k.node.agentRuns})`);
      }
      await c.startAgent(k.node);
      note(`agent of ${k.node.name} ready again (run ${k.node.agentRuns})`);
      down.delete(k.node);
    }
  })();

  try {
    await Promise.all([churn, chaos]);
  } finally {
    churning = false;
    await recorder;
  }
  const churnMs = Date.now() - started;
  expect(kills).toHaveLength(schedule.length);
  expect(pods.size).toBe(PODS);
  // The end must also hold an exclusive ENI in a live pod. The last creations make one on node 2
  // unless its agent was being killed all through them; then one is made now (the kills are over).
  if (!live().some((p) => p.exclusive && p.node === c.nodes[1])) {
    const node = c.nodes[1]!;
    const pod = await c.createPod('late-x', node, true);
    pods.set('late-x', { name: 'late-x', node, exclusive: true, uid: pod.metadata!.uid!, deleted: false, keep: true });
    note('node 2 had no live exclusive pod at the end of the churn: late-x made');
  }
  // Node 1's exclusive pods go too: their ENIs must come back.
  for (const p of live().filter((x) => x.exclusive && x.node === c.nodes[0])) {
    p.deleted = true;
    await c.deletePod(p.name);
  }

  const alive = live();
  const gone = [...pods.values()].filter((p) => p.deleted);
  const aliveUIDs = new Set(alive.map((p) => p.uid));

  // Calm: every live pod Running, every deleted one finalised, plans and statuses caught up,
  // the node namespaces hold exactly what the live pods need and no deleted pod's namespace is left.
  let lastMismatch = '';
  const calmStarted = Date.now();
  note(`churn over after ${(churnMs / 1000).toFixed(1)} s: ${alive.length} live, ${gone.length} deleted; waiting for calm`);
  const progress = setInterval(() => note(`not calm yet: ${lastMismatch}`), 10_000);
  const calm = await eventually(
    'calm after the churn',
    async () => {
      const listed = (await c.core.listNamespacedPod({ namespace: c.namespace })).items;
      const byName = new Map(listed.map((p) => [p.metadata!.name!, p]));
      const notRunning = alive.filter((p) => byName.get(p.name)?.status?.phase !== 'Running' || !byName.get(p.name)?.status?.podIP).map((p) => p.name);
      const lingering = listed.filter((p) => !aliveUIDs.has(p.metadata!.uid!)).map((p) => p.metadata!.name!);
      if (notRunning.length || lingering.length) return void (lastMismatch = `not Running: ${notRunning.join(' ')}; not finalised: ${lingering.join(' ')}`);
      const plans = await Promise.all(c.nodes.map((n) => cr.get<NodeNetwork>('nodenetworks', n.name)));
      for (const [i, n] of c.nodes.entries()) {
        const planned = (plans[i]!.spec.attachments ?? []).map((a) => a.podUID).sort();
        const want = alive.filter((p) => p.node === n).map((p) => p.uid).sort();
        if (JSON.stringify(planned) !== JSON.stringify(want)) return void (lastMismatch = `${n.name}: planned ${planned.length} attachments, ${want.length} live pods`);
        const status = (plans[i]!.status?.attachments ?? []).map((s) => `${s.podUID}=${s.state}`).sort();
        if (JSON.stringify(status) !== JSON.stringify(want.map((u) => `${u}=Ready`))) return void (lastMismatch = `${n.name}: status ${status.join(' ')}`);
        // The agent has reported on the latest plan (the controller's last change may be a dropped Released entry).
        if (plans[i]!.status?.observedGeneration !== plans[i]!.metadata.generation) return void (lastMismatch = `${n.name}: status for generation ${plans[i]!.status?.observedGeneration}, plan at ${plans[i]!.metadata.generation}`);
      }
      const inventories = await Promise.all(c.nodes.map((n) => readInventory(n.netns)));
      for (const [i, n] of c.nodes.entries()) {
        const extra = agentObjects(inventories[i]!).filter((o) => !expectedObjects(plans[i]!.spec.attachments ?? [], inventories[i]!).includes(o));
        if (extra.length) return void (lastMismatch = `${n.name} still holds ${extra.join('; ')}`);
      }
      const netns = listNetns();
      const stale = gone.filter((p) => netns.includes(`${p.node.podPrefix}-${uid12(p.uid)}`)).map((p) => p.name);
      if (stale.length) return void (lastMismatch = `pod namespaces left: ${stale.join(' ')}`);
      return { listed: byName, plans, inventories };
    },
    120_000,
    500,
  )
    .catch((err: Error) => {
      throw new Error(`${err.message}: ${lastMismatch}\nkills: ${JSON.stringify(kills)}\n${c.logs()}`);
    })
    .finally(() => clearInterval(progress));
  const calmMs = Date.now() - calmStarted;
  const { listed, plans, inventories } = calm;
  const planOf = (p: TrackedPod) => plans[c.nodes.indexOf(p.node)]!.spec.attachments!.find((a) => a.podUID === p.uid)!;

  // Plans and statuses: one attachment per live pod, at the IP the pod reports; all Ready, none Failed.
  for (const [i, n] of c.nodes.entries()) {
    const nn = plans[i]!;
    const mine = alive.filter((p) => p.node === n);
    expect((nn.spec.attachments ?? []).map((a) => a.podUID).sort()).toEqual(mine.map((p) => p.uid).sort());
    expect(nn.status?.attachments?.filter((s) => s.state !== 'Ready')).toEqual([]);
    expect(nn.status?.counts).toEqual({ ready: mine.length, failed: 0, released: 0 });
    expect(nn.status?.observedGeneration).toBe(nn.metadata.generation);
  }
  for (const p of alive) {
    expect(`${p.name} ${listed.get(p.name)!.status!.podIP}`).toBe(`${p.name} ${planOf(p).ip.split('/')[0]}`);
    expect(`${p.name} ${planOf(p).mode}`).toBe(`${p.name} ${p.exclusive ? 'exclusive' : 'veth'}`);
  }
  const allIPs = alive.map((p) => planOf(p).ip);
  expect(new Set(allIPs).size).toBe(allIPs.length);

  // The node namespaces: exactly the agent objects the live pods need, nothing else of ours.
  for (const [i] of c.nodes.entries()) {
    expect(agentObjects(inventories[i]!)).toEqual(expectedObjects(plans[i]!.spec.attachments ?? [], inventories[i]!));
  }

  // Deleted pods, one by one: no link, no rule/route/proxy/permanent neighbour with their IP
  // (unless a live pod holds that IP again), no pod namespace.
  const liveIPs = new Set(allIPs.map((ip) => ip.split('/')[0]!));
  const netns = new Set(listNetns());
  const leftovers: string[] = [];
  let withIP = 0;
  for (const p of gone) {
    const inv = inventories[c.nodes.indexOf(p.node)]!;
    for (const name of [vethHostName(p.uid), exclusiveHostName(p.uid)]) if (inv.links.some((l) => l.ifname === name)) leftovers.push(`${p.name}: link ${name}`);
    if (netns.has(`${p.node.podPrefix}-${uid12(p.uid)}`)) leftovers.push(`${p.name}: namespace ${p.node.podPrefix}-${uid12(p.uid)}`);
    const ip = seen.get(p.uid)?.attachment.ip.split('/')[0];
    if (ip === undefined) continue;
    withIP++;
    if (!liveIPs.has(ip)) for (const m of mentionsOf(inv, new Set([ip]))) leftovers.push(`${p.name} (${ip}): ${m}`);
  }
  expect(leftovers).toEqual([]);
  // The recorder saw the plans of nearly all deleted pods (a pod deleted before the controller planned it has no IP).
  expect(withIP).toBeGreaterThan(gone.length * 0.8);

  // Exclusive ENIs: a live pod's is in its namespace as eth0; one whose pod is gone is back in the node
  // namespace with its MAC and the name the fabric gave it, down, without address or mark.
  const fabricNics = Object.values(c.fabric.info().nics);
  const attached = new Map(c.nodes.map((n) => [n.name, new Set(c.sim.world.describeENIs(SCOPE, { instanceId: n.instance }).map((e) => e.mac.toLowerCase()))]));
  const heldMacs = new Set(alive.filter((p) => p.exclusive).map((p) => planOf(p).mac.toLowerCase()));
  for (const p of alive.filter((x) => x.exclusive)) {
    const mac = planOf(p).mac.toLowerCase();
    const inPod = await readInventory(`${p.node.podPrefix}-${uid12(p.uid)}`);
    expect(inPod.links.find((l) => l.address === mac)?.ifname).toBe('eth0');
    expect(inventories[c.nodes.indexOf(p.node)]!.links.filter((l) => l.address === mac)).toEqual([]);
  }
  const returned = new Map<string, { node: SimNode; pods: string[] }>();
  for (const p of gone.filter((x) => x.exclusive)) {
    const mac = seen.get(p.uid)?.attachment.mac.toLowerCase();
    if (mac === undefined || heldMacs.has(mac) || !attached.get(p.node.name)!.has(mac)) continue;
    returned.set(mac, { node: p.node, pods: [...(returned.get(mac)?.pods ?? []), p.name] });
  }
  const badENIs: string[] = [];
  for (const [mac, { node, pods: holders }] of returned) {
    const inv: Inventory = inventories[c.nodes.indexOf(node)]!;
    const link = inv.links.find((l) => l.address === mac);
    const original = fabricNics.find((f) => f.mac.toLowerCase() === mac)?.ifname;
    if (!link) badENIs.push(`${mac} (of ${holders.join(', ')}): not in ${node.name}'s namespace`);
    else if (link.flags.includes('UP') || ipv4Of(inv, link.ifname).length > 0 || isExclusiveMarked(link) || link.ifname !== original)
      badENIs.push(`${mac} (of ${holders.join(', ')}): ${link.ifname} (fabric: ${original}) flags ${link.flags.join(',')} addresses ${ipv4Of(inv, link.ifname).join(',')} alias ${link.ifalias ?? '-'}`);
  }
  expect(badENIs).toEqual([]);
  expect({ returned: returned.size > 0, held: heldMacs.size > 0 }).toEqual({ returned: true, held: true });

  // Reachability, TCP and UDP: each node reaches every live pod (its own and the other node's), and
  // each pod reaches the next one in a ring (so every pod sends and receives).
  const target = (p: TrackedPod) => `${planOf(p).ip.split('/')[0]}:8080`;
  const probeStarted = Date.now();
  for (const n of c.nodes) expect(failures(await c.probe(n.netns, alive.map(target)))).toEqual([]);
  const ring = await inParallel(alive, 4, async (p) => {
    const next = alive[(alive.indexOf(p) + 1) % alive.length]!;
    return failures(await c.probe(`${p.node.podPrefix}-${uid12(p.uid)}`, [target(next)])).map((f) => `${p.name} → ${next.name}: ${f}`);
  });
  expect(ring.flat()).toEqual([]);
  const probeMs = Date.now() - probeStarted;

  // The cloud equals the ledgers: every ENI of the instances and every address on them, no more, no less;
  // assigned addresses are exactly the planned ones.
  let ledgerDiff = '';
  await eventually('cloud equal to the ENIPool ledgers', async () => {
    const pools = await Promise.all(c.nodes.map((n) => cr.get<ENIPool>('enipools', n.name)));
    for (const [i, n] of c.nodes.entries()) {
      const ledger = (pools[i]!.status?.enis ?? []).map((e) => ({ id: e.id, ips: (e.ips ?? []).map((ip) => ip.address).sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
      const cloud = c.sim.world.describeENIs(SCOPE, { instanceId: n.instance, primary: false }).map((e) => ({ id: e.id, ips: [e.primaryIP, ...e.secondaryIPs].sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
      if (JSON.stringify(ledger) !== JSON.stringify(cloud)) return void (ledgerDiff = `${n.name}: ledger ${JSON.stringify(ledger)} cloud ${JSON.stringify(cloud)}`);
    }
    const assigned = pools.flatMap((p) => (p.status?.enis ?? []).flatMap((e) => (e.ips ?? []).filter((ip) => ip.state === 'assigned').map((ip) => ip.address)));
    const exclusiveOwned = pools.flatMap((p) => (p.status?.enis ?? []).filter((e) => e.role === 'exclusive' && e.podUID).map((e) => e.podUID!));
    const want = alive.filter((p) => !p.exclusive).map((p) => planOf(p).ip.split('/')[0]!).sort();
    if (JSON.stringify(assigned.sort()) !== JSON.stringify(want)) return void (ledgerDiff = `assigned ${assigned.join(',')} planned ${want.join(',')}`);
    if (JSON.stringify(exclusiveOwned.sort()) !== JSON.stringify(alive.filter((p) => p.exclusive).map((p) => p.uid).sort())) return void (ledgerDiff = `exclusive ENIs owned by ${exclusiveOwned.join(',')}`);
    return true;
  }, 30_000, 500).catch((err: Error) => {
    throw new Error(`${err.message}: ${ledgerDiff}`);
  });
  expect(c.sim.errors).toEqual([]);
  expect(c.fabric.info().errors).toEqual([]);

  // The agents: one run per start, every run came up, the running ones answer /metrics with nothing
  // in flight, and no run logged an error.
  for (const n of c.nodes) {
    expect(n.agentRuns).toBe(1 + schedule.filter((k) => k.node === n).length + schedule.filter((k) => k.node === n && k.kind === 'restart').length);
    for (let r = 1; r <= n.agentRuns; r++) {
      const log = c.agentLog(n, r);
      if (!killedStarting.has(`${n.name}#${r}`)) expect(`${n.name} #${r} ready: ${log.includes('"agent ready"')}`).toBe(`${n.name} #${r} ready: true`);
      // Nothing above info: no failed ADD, repair or status write, no crash.
      const troubles = log.split('\n').filter((l) => l !== '' && (!l.startsWith('{') || /"level":"(warn|error)"/.test(l)));
      expect(troubles).toEqual([]);
    }
    const metrics = await c.agentMetrics(n);
    expect(metrics).toMatch(/^eni_operator_cni_requests_in_flight 0$/m);
    expect(metrics).toMatch(/^eni_operator_cni_requests_queued 0$/m);
    // The last runs answered ADDs with success or try-again-later only.
    expect(metrics.match(/^eni_operator_cni_requests_total\{[^}]*command="ADD"[^}]*\} \d+$/gm)?.filter((l) => !/result="ok"|code="11"/.test(l)) ?? []).toEqual([]);
    expect(metrics).toContain('# TYPE eni_operator_agent_repairs_total counter');
  }
  // What the kills did to the kubelets' CNI calls: refused while an agent was down, or cut short.
  const kubelets = c.nodes.map((n) => c.kubeletLog(n)).join('\n');
  const refused = kubelets.match(/agent is not running/g)?.length ?? 0;
  const cutShort = kubelets.match(/lost the connection to the eni-operator agent|did not answer in time/g)?.length ?? 0;
  process.stdout.write(
    `agent chaos: seed ${SEED}, ${PODS} pods (${[...pods.values()].filter((p) => p.exclusive).length} exclusive), ${alive.length} live at the end, ` +
      `kills ${kills.map((k) => `${k.node}@${(k.at / 1000).toFixed(1)}s/${k.kind}/${k.downMs}ms`).join(' ')}; churn ${(churnMs / 1000).toFixed(1)} s, calm after ${(calmMs / 1000).toFixed(1)} s, ` +
      `probes ${(probeMs / 1000).toFixed(1)} s; CNI calls refused by a dead agent ${refused}, cut short by a kill ${cutShort}; ` +
      `checked ${gone.length} deleted pods (${withIP} with their IP), ${returned.size} returned exclusive ENIs\n`,
  );
  passed = true;
}, 300_000);
