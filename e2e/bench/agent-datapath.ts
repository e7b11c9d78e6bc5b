// Benchmark: the node agent and the eni-cni plugin for real, on the VPC fabric.
// Its own etcd + kube-apiserver (+ controller-manager), the cloud emulator
// (in this process, fast async delays, config/cloudsim/bench-world.yaml
// trimmed to the three instances used, all ecs.g7.4xlarge: 8 ENIs x 30 IPs),
// the controller, and per node an agent process acting on the node's fabric
// namespace.
//
//  (a) CNI ADD latency with the plan already present, per datapath: veth
//      (node bench-veth, up to 100 planned pods) and exclusive (node bench-excl, one
//      pod per secondary ENI, each ADDed and DELed in turns). Each pod's ADD
//      goes either straight to the agent's unix socket, as the plugin sends
//      it (the agent's own ADD time plus a socket round trip), or through the
//      real plugin exec'd as a runtime does it (nsenter into the node
//      namespace, CNI env, config on stdin: exec-to-result). The two ways
//      alternate pod by pod and swap each round; every ADD gets a fresh pod
//      namespace and its result must carry the planned address. The agent's
//      own eni_operator_cni_request_duration_seconds histogram over the same
//      ADDs is reported too. ipvlan is measured only where the kernel has it.
//  (b) bind -> pod network Ready on a warm node (bench-pods, pool warmIPs 100)
//      with a simulated kubelet: pods created bound to the node (spec.nodeName)
//      at a steady pace below the node's throughput; per pod, from the create
//      call returning to (1) the plan naming it, (2) the agent's NodeNetwork
//      status Ready for it, (3) the pod's podIP and Ready as the kubelet wrote
//      them, all seen by watches of this process.
//  (c) pods per second per node: a burst created at once on the warm node,
//      drained by the kubelet; the rate over the middle 80 % of completions is
//      the steady one.
//
// Containers are pause-like (`sleep`, see pause-kubelet.ts) unless
// BENCH_CONTAINER=echo. Env: BENCH_ADD_SAMPLES (per datapath and way, default
// 100), BENCH_ADD_GAP_MS (idle time after each (a) ADD, default 0),
// BENCH_PACED_PODS (100), BENCH_PACE_MS (250), BENCH_BURST_PODS (100),
// BENCH_KUBELET_WORKERS (8), BENCH_AGENT_CPU_PROF (a directory: V8 CPU
// profiles of the agents).
//
// Kernel names all start with `benchag-` (fabric and pod namespaces): what an
// interrupted run leaves is swept by the next run's fabric start. One run at a
// time on a machine.
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { API_VERSION, GROUP, VERSION } from '../../src/api/common.js';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { DEFAULT_NAMESPACE } from '../../src/api/rbac.js';
import { createEmulator, startFabric, type Fabric } from '../../src/cloudsim/index.js';
import type { Stats } from '../../src/cloudsim/server.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { customInformer, podInformer } from '../../src/controller/runtime/informer.js';
import { FAST_DELAYS } from '../harness/cloudsim.js';
import { ControlPlane } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { ProcessGroup } from '../harness/processes.js';
import { waitForDefaultServiceAccount } from '../harness/scenario.js';
import { deleteNetns, ensureNetns, listNetns } from '../kubelet/netns.js';
import { applySteps } from '../../src/agent/netlink/kernel.js';
import { namedNetns } from '../../src/agent/netlink/netns.js';
import { stopExecHelper } from '../../src/agent/netlink/exec.js';
import {
  FABRIC_PREFIX,
  addDirect,
  addPlugin,
  benchNode,
  cpuMs,
  delDirect,
  helperOf,
  histogramDelta,
  machineLoad,
  pluginBinDir,
  round,
  scrapeCniHistogram,
  scrapeHistogram,
  scrapePlanWait,
  sleep,
  startAgent,
  startKubelet,
  waitForLine,
  type BenchNode,
  type MachineLoad,
  type Sandbox,
} from './agent-kit.js';
import { summarize, type Summary } from './stats.js';

const began = performance.now();
/** A whole number from the environment, within bounds, or a clear error. */
function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}=${raw}: must be a whole number from ${min} to ${max}`);
  return v;
}
// ecs.g7.4xlarge: 7 secondary ENIs x 29 secondary IPs = 203 pod addresses per node.
const NODE_IPS = 203;
const ADD_SAMPLES = envInt('BENCH_ADD_SAMPLES', 100, 1, 10_000);
/** Idle time after each (a) ADD, so that what an ADD sets off (status write, watch events, controller reconcile) is not timed into the next one. */
const ADD_GAP_MS = envInt('BENCH_ADD_GAP_MS', 0, 0, 10_000);
const PACED_PODS = envInt('BENCH_PACED_PODS', 100, 1, NODE_IPS - 13);
const PACE_MS = envInt('BENCH_PACE_MS', 250, 1, 60_000);
const BURST_PODS = envInt('BENCH_BURST_PODS', 100, 1, NODE_IPS - 13);
const KUBELET_WORKERS = envInt('BENCH_KUBELET_WORKERS', 8, 1, 256);
/** Planned pods of the veth node in (a); more samples come from more rounds. */
const VETH_PODS = Math.min(ADD_SAMPLES, 100);
const CONTAINER = process.env.BENCH_CONTAINER === 'echo' ? 'echo' : 'pause';
const WARM_IPS = Math.max(100, PACED_PODS, BURST_PODS);
const TARGETS = { addP50Ms: 5, addP99Ms: 20, exclusiveOverNicMoveP50Ms: 5, bindToReadyP99Ms: 300 };
const WORLD = 'config/cloudsim/bench-world.yaml';
const NS = 'bench';
const KUBELET_NETNS_PREFIX = `${FABRIC_PREFIX}-k`;
const ENIS_PER_NODE = 8; // ecs.g7.4xlarge, the primary ENI included

const NODES = {
  veth: { name: 'bench-veth', instance: 'i-bp1benchnode000001', pool: { minIPs: VETH_PODS + 4, warmIPs: 4, maxIdleIPs: VETH_PODS + 4 } },
  exclusive: { name: 'bench-excl', instance: 'i-bp1benchnode000002', pool: { warmIPs: 0, maxIdleIPs: 0 } },
  pods: { name: 'bench-pods', instance: 'i-bp1benchnode000003', pool: { warmIPs: WARM_IPS, maxIdleIPs: 2 * WARM_IPS, cooldown: '2s' } },
} as const;
type Role = keyof typeof NODES;

const elapsed = () => performance.now() - began;
const say = (msg: string) => console.error(`[${(elapsed() / 1000).toFixed(1).padStart(6)} s] ${msg}`);
const sum = (v: number[]): Summary | null => (v.length ? roundSummary(summarize(v)) : null);
function roundSummary(s: Summary): Summary {
  return { n: s.n, min: round(s.min, 2), median: round(s.median, 2), p90: round(s.p90, 2), p99: round(s.p99, 2), max: round(s.max, 2) };
}

const ownPids = new Set<number>();
const loadAt: Record<string, MachineLoad> = {};
const noteLoad = (at: string) => (loadAt[at] = machineLoad(ownPids));

// ---------------------------------------------------------------- pod tracking

interface Tracked {
  phase: string;
  node: string;
  /** performance.now() when the create call was sent / returned. */
  sent: number;
  created?: number;
  uid?: string;
  /** First watch event carrying: its attachment in the plan, the agent's Ready for it, its podIP, its Ready condition. */
  planned?: number;
  plannedIP?: string;
  attachReady?: number;
  podIP?: number;
  ip?: string;
  ready?: number;
}

const pods = new Map<string, Tracked>(); // key: pod name (one namespace)
const byUID = new Map<string, Tracked>();

function onPlan(nn: NodeNetwork): void {
  const now = performance.now();
  for (const a of nn.spec.attachments ?? []) {
    const t = a.namespace === NS ? pods.get(a.name) : undefined;
    if (t && t.planned === undefined) {
      t.planned = now;
      t.plannedIP = a.ip.split('/')[0];
    }
  }
  for (const s of nn.status?.attachments ?? []) {
    const t = byUID.get(s.podUID);
    if (t && s.state === 'Ready' && t.attachReady === undefined) t.attachReady = now;
  }
}

function onPod(pod: k8s.V1Pod): void {
  const now = performance.now();
  const t = pod.metadata?.namespace === NS ? pods.get(pod.metadata.name!) : undefined;
  if (!t || (t.uid && t.uid !== pod.metadata?.uid)) return;
  if (pod.status?.podIP && t.podIP === undefined) {
    t.podIP = now;
    t.ip = pod.status.podIP;
  }
  if (t.ready === undefined && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) t.ready = now;
}

/** NodeNetwork writes per node as watch events show them: spec (the controller's plan, generation bumped) or status only (the agent). */
const nnWrites = new Map<string, { spec: number; status: number }>();
function countWrite(nn: NodeNetwork, old: NodeNetwork): void {
  const c = nnWrites.get(nn.metadata.name!) ?? { spec: 0, status: 0 };
  nnWrites.set(nn.metadata.name!, c);
  if (nn.metadata.generation !== old.metadata.generation) c.spec++;
  else c.status++;
}
const writesOf = (node: string) => ({ ...(nnWrites.get(node) ?? { spec: 0, status: 0 }) });
const writesSince = (a: { spec: number; status: number }, b: { spec: number; status: number }) => ({ controllerSpecWrites: b.spec - a.spec, agentStatusWrites: b.status - a.status });

const inPhase = (phase: string) => [...pods.values()].filter((t) => t.phase === phase);

async function waitAll(phase: string, what: string, done: (t: Tracked) => boolean, timeoutMs: number, alive: () => void): Promise<void> {
  for (const until = performance.now() + timeoutMs; ; await sleep(20)) {
    alive();
    const left = inPhase(phase).filter((t) => !done(t));
    if (left.length === 0) return;
    if (performance.now() > until) throw new Error(`${phase}: ${left.length} pods not ${what} after ${timeoutMs} ms`);
  }
}

/** ms from the create call returning to an instant of each pod of a phase. */
function latencies(phase: string, at: (t: Tracked) => number | undefined): number[] {
  return inPhase(phase).flatMap((t) => {
    const v = at(t);
    return v !== undefined && t.created !== undefined ? [round(v - t.created, 1)] : [];
  });
}

// ---------------------------------------------------------------- cloud stats

function cloudCalls(stats: Stats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const byAction of Object.values(stats.calls)) for (const [action, byCode] of Object.entries(byAction)) out[action] = (out[action] ?? 0) + Object.values(byCode).reduce((a, b) => a + b, 0);
  return out;
}

function callsSince(before: Record<string, number>, after: Record<string, number>): { total: number; byAPI: Record<string, number> } {
  const byAPI: Record<string, number> = {};
  for (const [api, n] of Object.entries(after)) if (n > (before[api] ?? 0)) byAPI[api] = n - (before[api] ?? 0);
  return { total: Object.values(byAPI).reduce((a, b) => a + b, 0), byAPI };
}

// ---------------------------------------------------------------- setup

const cpDir = mkdtempSync(join(tmpdir(), 'eni-bench-agent-cp-'));
const workDir = mkdtempSync(join(tmpdir(), 'eni-bench-agent-'));
say(`control plane in ${cpDir}; agents, kubelet and logs in ${workDir}`);
const cp = await ControlPlane.start({ dir: cpDir, id: `bench-agent-${process.pid}`, removeDir: true });
for (const pid of cp.info.pids) ownPids.add(pid);
noteLoad('start');

const spec = loadWorldSpec(repoPath(WORLD));
spec.delays = { ...FAST_DELAYS };
const used = new Set<string>(Object.values(NODES).map((n) => n.instance));
for (const r of spec.regions) r.instances = r.instances.filter((i) => used.has(i.id));
const simErrors: unknown[] = [];
const emulator = createEmulator(spec, { onError: (err) => simErrors.push(err) });
const simHost = `127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
let fabric: Fabric | undefined;
const group = new ProcessGroup(`bench-agent-procs-${process.pid}`, workDir, true);

const kc = new k8s.KubeConfig();
kc.loadFromFile(cp.info.kubeconfigs.admin);
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const informerErrors: string[] = [];
const plans = customInformer<NodeNetwork>(kc, 'nodenetworks', { onError: (e) => informerErrors.push(`nodenetworks: ${String(e)}`) });
const pools = customInformer<ENIPool>(kc, 'enipools', { onError: (e) => informerErrors.push(`enipools: ${String(e)}`) });
const podWatch = podInformer(kc, { fieldSelector: `metadata.namespace=${NS}`, onError: (e) => informerErrors.push(`pods: ${String(e)}`) });
const nodes = {} as Record<Role, BenchNode>;

async function teardown(): Promise<void> {
  // Pods of the kubelet's node first, while it runs: it tears their sandboxes down through the agent.
  if (nodes.pods?.kubelet) {
    await core.deleteCollectionNamespacedPod({ namespace: NS, fieldSelector: `spec.nodeName=${NODES.pods.name}`, gracePeriodSeconds: 0 }).catch(() => undefined);
    for (const until = Date.now() + 30_000; listNetns().some((n) => n.startsWith(`${KUBELET_NETNS_PREFIX}-`)) && Date.now() < until; ) await sleep(100);
  }
  await group.stop().catch(() => undefined);
  await Promise.all([plans.stop(), pools.stop(), podWatch.stop()]).catch(() => undefined);
  // The fabric's cleanup removes every namespace with the run's prefix, pod namespaces included.
  await fabric?.stop().catch((err: unknown) => say(`fabric cleanup failed: ${String(err)}`));
  await emulator.close();
  await cp.stop();
  rmSync(workDir, { recursive: true, force: true });
}

let torn = false;
const tearOnce = () => (torn ? Promise.resolve() : ((torn = true), teardown()));
process.once('SIGINT', () => void tearOnce().finally(() => process.exit(130)));

try {
  fabric = await startFabric(emulator, { prefix: FABRIC_PREFIX });
  const ali = spec.credentials.find((c) => c.provider === 'alibaba')!;
  await core.createNamespacedSecret({ namespace: DEFAULT_NAMESPACE, body: { metadata: { name: 'bench-credentials' }, stringData: { accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret } } });
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await waitForDefaultServiceAccount(core, NS);
  const provider = { type: 'alibaba', region: 'cn-hangzhou', credentialsSecretRef: { name: 'bench-credentials', namespace: DEFAULT_NAMESPACE }, endpoint: simHost, allowInsecureHTTP: true };
  for (const [role, n] of Object.entries(NODES) as [Role, (typeof NODES)[Role]][]) {
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'networkmodes',
      body: {
        apiVersion: API_VERSION,
        kind: 'NetworkMode',
        metadata: { name: n.name },
        spec: {
          nodeSelector: { matchLabels: { 'eni-operator.io/network': n.name } },
          provider,
          subnets: ['vsw-bp1benchpodsi0001', 'vsw-bp1benchpodsj0001'],
          securityGroups: ['sg-bp1benchpods000001'],
          datapath: 'veth',
          ...(role === 'exclusive' ? { exclusive: { enabled: true, warmENIs: 0 } } : {}),
          pool: n.pool,
        },
      },
    });
    await core.createNode({ body: { metadata: { name: n.name, labels: { 'eni-operator.io/network': n.name } }, spec: { providerID: `cn-hangzhou.${n.instance}` } } });
  }
  plans.on('add', onPlan).on('update', (nn, old) => {
    countWrite(nn, old);
    onPlan(nn);
  });
  podWatch.on('add', onPod).on('update', (p) => onPod(p));
  for (const inf of [plans, pools, podWatch]) inf.start();
  await Promise.all([plans.waitForSync(), pools.waitForSync(), podWatch.waitForSync()]);

  const controllerLog = join(workDir, 'controller.log');
  const controller = group.start(
    'controller',
    process.execPath,
    [repoPath('dist/src/cmd/eni-operator.js'), 'controller', '--kubeconfig', cp.info.kubeconfigs.controller, '--cluster-id', 'bench-agent', '--listen', '127.0.0.1:0', '--identity', 'bench-agent', '--release-grace', '5s'],
    controllerLog,
  );
  const controllerHealth = /"health":"([^"]+)"/.exec(await waitForLine(controllerLog, '"controller starting"', 30_000, controller))![1]!;
  const alive = () => {
    const procs = [['controller', controller] as const, ...Object.values(nodes).flatMap((n) => [[`agent of ${n.name}`, n.agent] as const, [`kubelet of ${n.name}`, n.kubelet] as const])];
    for (const [what, p] of procs) {
      if (p && (p.exitCode !== null || p.signalCode !== null)) throw new Error(`the ${what} exited (${p.exitCode ?? p.signalCode}); logs in ${workDir}`);
    }
  };
  for (const [role, n] of Object.entries(NODES) as [Role, (typeof NODES)[Role]][]) {
    const primary = emulator.world.describeENIs({ provider: 'alibaba', regionId: 'cn-hangzhou' }, { instanceId: n.instance, primary: true })[0]!;
    nodes[role] = benchNode(workDir, n.name, n.instance, fabric.nodeNamespace(n.instance), primary.primaryIP);
    await startAgent(group, nodes[role], cp.info.kubeconfigs.agent);
  }
  for (const pid of group.pids()) ownPids.add(pid);
  const binDir = pluginBinDir(workDir);

  /** The node's pool holds `free` free IPs (and nothing assigned or cooling, if `idle`) on ENIs that are all InUse, and the fabric has them in the kernel. */
  const waitPool = async (role: Role, free: number, idle: boolean, timeoutMs = 60_000) => {
    const name = NODES[role].name;
    for (const until = performance.now() + timeoutMs; ; await sleep(50)) {
      alive();
      const p = pools.get(name)?.status;
      const c = p?.counts;
      if ((c?.freeIPs ?? 0) >= free && (!idle || (c?.assignedIPs === 0 && c.coolingIPs === 0)) && (p?.enis ?? []).every((e) => e.cloudState === 'InUse')) break;
      if (performance.now() > until) throw new Error(`pool of ${name} not ready after ${timeoutMs} ms: ${JSON.stringify(c)}`);
    }
    await fabric!.idle();
  };

  const createPod = async (phase: string, name: string, role: Role, exclusive = false): Promise<void> => {
    const t: Tracked = { phase, node: NODES[role].name, sent: performance.now() };
    pods.set(name, t);
    const pod = await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { bench: phase }, ...(exclusive ? { annotations: { 'network.eni-operator.io/eni-mode': 'exclusive' } } : {}) },
        spec: { nodeName: NODES[role].name, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: `sim/${CONTAINER}` }] },
      },
    });
    t.created = performance.now();
    t.uid = pod.metadata!.uid!;
    byUID.set(t.uid, t);
  };

  const warmStart = performance.now();
  await waitPool('veth', NODES.veth.pool.minIPs, true, 120_000);
  await waitPool('pods', WARM_IPS, true, 120_000);
  const warmupMs = round(performance.now() - warmStart, 0);
  say(`controller and 3 agents up; pools warm in ${warmupMs} ms`);
  noteLoad('afterWarmup');

  // ------------------------------------------------------------ (a) ADD latency per datapath
  // The floor of an exclusive ADD: moving one NIC between two namespaces, nothing else.
  const floorNs = [`${FABRIC_PREFIX}-fa`, `${FABRIC_PREFIX}-fb`] as const;
  for (const ns of floorNs) await ensureNetns(ns);
  await applySteps(namedNetns(floorNs[0]), [{ do: 'veth-add', dev: 'mv0', peer: 'mv1' }]);
  let floorAt = 0;
  const nicMove = async (): Promise<number> => {
    const [from, to] = floorAt++ % 2 === 0 ? floorNs : ([floorNs[1], floorNs[0]] as const);
    const t0 = performance.now();
    await applySteps(namedNetns(from), [{ do: 'link-set', dev: 'mv0', to: `/run/netns/${to}` }]);
    return performance.now() - t0;
  };
  let sandboxes = 0;
  const addLatency = async (role: 'veth' | 'exclusive', podCount: number) => {
    const node = nodes[role];
    const phase = `add-${role}`;
    const names = Array.from({ length: podCount }, (_, i) => `a-${role}-${i}`);
    await Promise.all(names.map((n) => createPod(phase, n, role, role === 'exclusive')));
    await waitAll(phase, 'planned', (t) => t.planned !== undefined, 60_000, alive);
    // Exclusive ENIs are made for the pods: wait until they are attached and their NICs are in the node namespace.
    await waitPool(role, 0, false);
    const planned = plans.get(node.name)!.spec.attachments ?? [];
    const atts = names.map((n) => planned.find((a) => a.namespace === NS && a.name === n)!);
    const samples = { direct: [] as number[], plugin: [] as number[], del: [] as number[], nicMove: [] as number[] };
    const h0 = { add: await scrapeCniHistogram(node.health!, 'ADD'), del: await scrapeCniHistogram(node.health!, 'DEL') };
    const cpu0 = cpuMs(node.agent!.pid);
    const t0 = performance.now();
    const rounds = Math.ceil((2 * ADD_SAMPLES) / podCount);
    for (let r = 0; r < rounds; r++) {
      const live: Sandbox[] = [];
      for (const [i, att] of atts.entries()) {
        alive();
        const sb: Sandbox = { name: `${FABRIC_PREFIX}-a${++sandboxes}`, pod: { namespace: att.namespace, name: att.name, uid: att.podUID } };
        await ensureNetns(sb.name);
        live.push(sb);
        const way = (i + r) % 2 === 0 ? 'direct' : 'plugin';
        const { ms, ip } = way === 'direct' ? await addDirect(node, sb) : await addPlugin(node, binDir, sb);
        if (ip !== att.ip.split('/')[0]) throw new Error(`${role} ADD of ${att.name} (${way}) returned ${ip}, the plan says ${att.ip}`);
        samples[way].push(round(ms, 2));
        if (role === 'exclusive') samples.nicMove.push(round(await nicMove(), 2));
        if (ADD_GAP_MS > 0) await sleep(ADD_GAP_MS);
      }
      for (const sb of live) {
        samples.del.push(round(await delDirect(node, sb), 2));
        await deleteNetns(sb.name);
      }
    }
    const wallMs = performance.now() - t0;
    const cpu1 = cpuMs(node.agent!.pid);
    const h1 = { add: await scrapeCniHistogram(node.health!, 'ADD'), del: await scrapeCniHistogram(node.health!, 'DEL') };
    const adds = samples.direct.length + samples.plugin.length;
    say(`(a) ${role}: ${adds} ADDs over ${podCount} pods in ${rounds} rounds, ${round(wallMs / 1000)} s`);
    return {
      node: node.name,
      pods: podCount,
      rounds,
      agentDirect: sum(samples.direct),
      pluginExec: sum(samples.plugin),
      kernelNicMove: sum(samples.nicMove),
      agentHistogram: histogramDelta(h0.add, h1.add),
      delDirect: sum(samples.del),
      agentHistogramDel: histogramDelta(h0.del, h1.del),
      agentCpuMsPerCall: { self: round((cpu1.self - cpu0.self) / (2 * adds), 2), children: round((cpu1.children - cpu0.children) / (2 * adds), 2), note: 'agent CPU per ADD or DEL, averaged over both (children: waited-for processes, none now that the eni-exec helper does the kernel work; its CPU is not counted here)' },
      samples,
    };
  };
  const veth = await addLatency('veth', VETH_PODS);
  noteLoad('afterAddVeth');
  const exclusive = await addLatency('exclusive', ENIS_PER_NODE - 1);
  noteLoad('afterAddExclusive');
  for (const ns of floorNs) await deleteNetns(ns);
  await stopExecHelper();
  const overFloor = exclusive.agentDirect && exclusive.kernelNicMove ? round(exclusive.agentDirect.median - exclusive.kernelNicMove.median, 2) : null;
  const caps = plans.get(NODES.veth.name)?.status?.capabilities;
  const ipvlan = caps?.ipvlan
    ? { measured: false, kernelSupports: true, note: 'this kernel has ipvlan, but the benchmark has no ipvlan node yet' }
    : { measured: false, kernelSupports: false, note: `not measured: this kernel (${caps?.kernelVersion ?? release()}) has no ipvlan (the agent reports capabilities.ipvlan=false); the ipvlan datapath is tested in the QEMU guest` };

  // ------------------------------------------------------------ (b) bind -> Ready, paced, warm node
  await startKubelet(group, nodes.pods, { kubeconfig: cp.info.kubeconfigs.admin, binDir, netnsPrefix: KUBELET_NETNS_PREFIX, workers: KUBELET_WORKERS, pause: CONTAINER === 'pause' });
  ownPids.add(nodes.pods.kubelet!.pid!);
  await waitPool('pods', WARM_IPS, true);
  noteLoad('beforePaced');
  const cpuOf = () => ({ agent: cpuMs(nodes.pods.agent!.pid), helper: cpuMs(helperOf(nodes.pods.agent!.pid)), kubelet: cpuMs(nodes.pods.kubelet!.pid), controller: cpuMs(controller.pid) });
  const perPod = (a: ReturnType<typeof cpuOf>, b: ReturnType<typeof cpuOf>, n: number) => ({
    agentSelf: round((b.agent.self - a.agent.self) / n, 2),
    agentHelper: round((b.helper.self - a.helper.self) / n, 2),
    agentChildren: round((b.agent.children - a.agent.children) / n, 2),
    kubeletSelf: round((b.kubelet.self - a.kubelet.self) / n, 2),
    kubeletChildren: round((b.kubelet.children - a.kubelet.children) / n, 2),
    controller: round((b.controller.self - a.controller.self) / n, 2),
    note: 'CPU ms per pod; agentHelper: the agent\'s eni-exec helper (netlink); children = waited-for child processes (the kubelet: nsenter + eni-cni execs, ip netns); containers are not waited for; controller: its own process',
  });
  const bCalls0 = cloudCalls(emulator.getStats());
  const bCpu0 = cpuOf();
  const bWrites0 = writesOf(NODES.pods.name);
  const agentView = async () => ({
    add: await scrapeCniHistogram(nodes.pods.health!, 'ADD'),
    planWait: await scrapePlanWait(nodes.pods.health!),
    nodeReconciles: await scrapeHistogram(controllerHealth, 'eni_operator_reconcile_duration_seconds', { controller: 'node' }),
    allocation: await scrapeHistogram(controllerHealth, 'eni_operator_allocation_latency_seconds', {}),
  });
  const agentDelta = (a: Awaited<ReturnType<typeof agentView>>, b: Awaited<ReturnType<typeof agentView>>) => ({
    add: histogramDelta(a.add, b.add),
    planWait: histogramDelta(a.planWait, b.planWait),
    controllerNodeReconciles: histogramDelta(a.nodeReconciles, b.nodeReconciles),
    controllerAllocation: histogramDelta(a.allocation, b.allocation),
  });
  const bAgent0 = await agentView();
  const bStart = performance.now();
  const creates: Promise<void>[] = [];
  for (let i = 0; i < PACED_PODS; i++) {
    const wait = bStart + i * PACE_MS - performance.now();
    if (wait > 0) await sleep(wait);
    creates.push(createPod('paced', `b-${i}`, 'pods'));
  }
  await Promise.all(creates);
  await waitAll('paced', 'Ready', (t) => t.ready !== undefined && t.attachReady !== undefined, 60_000, alive);
  const bCpu1 = cpuOf();
  const bWrites = writesSince(bWrites0, writesOf(NODES.pods.name));
  const bAgent1 = await agentView();
  const bCalls = callsSince(bCalls0, cloudCalls(emulator.getStats()));
  say(`(b) ${PACED_PODS} pods, one every ${PACE_MS} ms: all Ready after ${round((performance.now() - bStart) / 1000)} s`);
  noteLoad('afterPaced');

  // Back to a warm, empty node: the kubelet tears the pods down, the controller takes the addresses back after their cooldown.
  await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'bench=paced', gracePeriodSeconds: 0 });
  for (const until = Date.now() + 60_000; listNetns().some((n) => n.startsWith(`${KUBELET_NETNS_PREFIX}-`)); await sleep(100)) {
    alive();
    if (Date.now() > until) throw new Error('the kubelet did not tear the paced pods down within 60 s');
  }
  await waitPool('pods', BURST_PODS, true);

  // ------------------------------------------------------------ (c) burst: pods per second
  noteLoad('beforeBurst');
  const cCalls0 = cloudCalls(emulator.getStats());
  const cCpu0 = cpuOf();
  const cWrites0 = writesOf(NODES.pods.name);
  const cAgent0 = await agentView();
  const cStart = performance.now();
  await Promise.all(Array.from({ length: BURST_PODS }, (_, i) => createPod('burst', `c-${i}`, 'pods')));
  const cCreatedMs = performance.now() - cStart;
  await waitAll('burst', 'Ready', (t) => t.ready !== undefined && t.attachReady !== undefined, 180_000, alive);
  const cCpu1 = cpuOf();
  const cWrites = writesSince(cWrites0, writesOf(NODES.pods.name));
  const cAgent1 = await agentView();
  const cCalls = callsSince(cCalls0, cloudCalls(emulator.getStats()));
  const readyAt = inPhase('burst').map((t) => t.ready! - cStart).sort((a, b) => a - b);
  const lo = Math.floor(0.1 * readyAt.length);
  const hi = Math.ceil(0.9 * readyAt.length) - 1;
  const throughput = {
    pods: BURST_PODS,
    createAllMs: round(cCreatedMs, 0),
    firstCreateToLastReadyMs: round(readyAt[readyAt.length - 1]!, 0),
    podsPerSecond: round((readyAt.length / readyAt[readyAt.length - 1]!) * 1000, 1),
    steadyPodsPerSecond: hi > lo ? round(((hi - lo) / (readyAt[hi]! - readyAt[lo]!)) * 1000, 1) : null,
    steadyNote: `completions ${lo + 1}..${hi + 1} of ${readyAt.length}: (count - 1) / (time between them)`,
  };
  say(`(c) burst of ${BURST_PODS}: ${throughput.podsPerSecond} pods/s overall, ${throughput.steadyPodsPerSecond} steady`);
  noteLoad('afterBurst');

  // Every pod got the address the controller planned for it.
  const wrongIP = [...inPhase('paced'), ...inPhase('burst')].filter((t) => t.ip !== t.plannedIP).map((t) => `${t.uid}: pod ${t.ip}, plan ${t.plannedIP}`);
  if (wrongIP.length > 0) throw new Error(`pods whose podIP is not the planned address: ${wrongIP.slice(0, 5).join('; ')}`);

  // The kubelet's own view: namespace + CNI ADD (plugin exec) per sandbox.
  const sandboxMs = (prefix: string) =>
    readFileSync(join(nodes.pods.dir, 'kubelet.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"sandbox ready"') && l.includes(`"pod":"${NS}/${prefix}`))
      .map((l) => (JSON.parse(l) as { addMs: number }).addMs);

  const bindPhase = (phase: string) => ({
    bindToPlanned: sum(latencies(phase, (t) => t.planned)),
    bindToAttachmentReady: sum(latencies(phase, (t) => t.attachReady)),
    bindToPodIP: sum(latencies(phase, (t) => t.podIP)),
    bindToReady: sum(latencies(phase, (t) => t.ready)),
    bindToReadyFromCreateSent: sum(inPhase(phase).map((t) => round(t.ready! - t.sent, 1))),
    plannedToAttachmentReady: sum(inPhase(phase).map((t) => round(t.attachReady! - t.planned!, 1))),
    kubeletSandboxMs: sum(sandboxMs(phase === 'paced' ? 'b-' : 'c-')),
  });
  const paced = { pods: PACED_PODS, paceMs: PACE_MS, ...bindPhase('paced'), agent: agentDelta(bAgent0, bAgent1), cpuPerPod: perPod(bCpu0, bCpu1, PACED_PODS), nodeNetworkWrites: bWrites, cloudCalls: bCalls };
  const burst = { ...bindPhase('burst'), throughput, agent: agentDelta(cAgent0, cAgent1), cpuPerPod: perPod(cCpu0, cCpu1, BURST_PODS), nodeNetworkWrites: cWrites, cloudCalls: cCalls };

  const result = {
    benchmark: 'agent-datapath',
    unit: 'ms',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
    targets: TARGETS,
    setup: {
      world: `${WORLD}, instances trimmed to ${[...used].join(', ')} (ecs.g7.4xlarge: 8 ENIs x 30 IPs)`,
      emulator: { inProcess: true, delays: spec.delays, fabric: `prefix ${FABRIC_PREFIX}` },
      controller: 'node dist/src/cmd/eni-operator.js controller (process, controller identity)',
      agent: 'node dist/src/cmd/eni-operator.js agent (one process per node, in the host namespace acting on the node namespace with --node-netns; repair interval 1m, plan wait 20s)',
      plugin: 'dist/bin/eni-cni (native/eni-cni) via a symlink named eni-cni, exec\'d as `nsenter --net=<node netns> -- eni-cni` with CNI env + config on stdin (e2e/kubelet/cni.ts, as the simulated kubelet does)',
      kubelet: { process: CONTAINER === 'pause' ? 'dist/e2e/bench/pause-kubelet.js' : 'dist/e2e/kubelet/main.js', workers: KUBELET_WORKERS, container: CONTAINER === 'pause' ? "sh -c 'echo {\"ready\":true}; exec sleep infinity' (pause-like)" : 'node echo-server.js' },
      nodes: Object.fromEntries(Object.entries(NODES).map(([role, n]) => [role, { node: n.name, instance: n.instance, pool: n.pool, ...(role === 'exclusive' ? { exclusive: { enabled: true, warmENIs: 0 } } : {}) }])),
      warmupMs,
      latencyDefinitions: {
        agentDirect: 'ADD posted to the agent\'s unix socket by this process (postToAgent, the plugin\'s client, same body): connect -> whole answer; the agent\'s own ADD time plus a local socket round trip (~0.3 ms)',
        pluginExec: 'spawn of `nsenter --net=<node> -- eni-cni` -> exit with the result read, as a runtime execs it',
        kernelNicMove: 'after each exclusive ADD: one netlink request (RTM_NEWLINK with IFLA_NET_NS_FD, through this process\'s own eni-exec helper) moving a veth between two scratch namespaces; the exclusive ADD\'s floor, whatever asks for it',
        exclusiveOverNicMoveP50Ms: 'exclusive agentDirect p50 minus kernelNicMove p50',
        agentHistogram: 'the agent\'s eni_operator_cni_request_duration_seconds{command="ADD",result="ok"} over the same ADDs (both ways): request in -> answer out, ms resolution; percentiles are bucket upper bounds',
        bind: 'from the pod create call (spec.nodeName set) returning in this process to the first watch event (this process\'s informers) carrying: the attachment in NodeNetwork spec (planned), the agent\'s NodeNetwork status Ready for it (attachmentReady), pod status.podIP (podIP) and condition Ready=True (ready), both written by the kubelet in one status patch',
        kubeletSandboxMs: 'the kubelet\'s own log: pod namespace + CNI ADD through the plugin, per sandbox',
        agent: '(b), (c): the pods node agent\'s ADD histogram (includes waiting for the plan) and eni_operator_agent_plan_wait_seconds (how long ADDs waited for the controller to plan the pod); the controller\'s node reconciles (count and duration) and its allocation latency (pod seen bound -> plan written) over the phase',
      },
    },
    addLatency: { veth, exclusive, ipvlan, exclusiveOverNicMoveP50Ms: overFloor },
    bindToReady: paced,
    burst,
    machineLoad: { note: 'load average and heavy processes of other runs on this 2-core machine at each point', at: loadAt },
    informerErrors: informerErrors.slice(0, 10),
    emulatorErrors: simErrors.map(String).slice(0, 10),
    totalRunMs: round(elapsed(), 0),
    samples: {
      pacedBindToReady: latencies('paced', (t) => t.ready),
      pacedBindToAttachmentReady: latencies('paced', (t) => t.attachReady),
      burstReadyAfterFirstCreate: readyAt.map((v) => round(v, 1)),
    },
  };
  await tearOnce();
  const out = repoPath('bench', 'results', 'agent-datapath.json');
  mkdirSync(repoPath('bench', 'results'), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  // ------------------------------------------------------------ table
  const cols = ['n', 'p50', 'p90', 'p99', 'max'];
  const row = (name: string, v: Summary | null, extra = '') => console.log(`${name.padEnd(44)}${(v ? [v.n, v.median, v.p90, v.p99, v.max] : [0, '-', '-', '-', '-']).map((x) => String(x).padStart(8)).join('')}  ${extra}`);
  const hist = (what: string, h: ReturnType<typeof histogramDelta>) => `${what}: ${h.count}, mean ${h.meanMs}, p50 <= ${h.p50AtMostMs}, p99 <= ${h.p99AtMostMs}`;
  console.log(`${'agent datapath (ms)'.padEnd(44)}${cols.map((c) => c.padStart(8)).join('')}`);
  for (const [kind, a] of [['veth', veth], ['exclusive', exclusive]] as const) {
    row(`(a) ${kind} ADD, agent (socket)`, a.agentDirect, kind === 'veth' ? `target p50 <= ${TARGETS.addP50Ms}, p99 <= ${TARGETS.addP99Ms}` : '');
    row(`(a) ${kind} ADD, plugin exec-to-result`, a.pluginExec, hist('agent histogram, ADDs', a.agentHistogram));
  }
  row('(a) the kernel moving a NIC between namespaces', exclusive.kernelNicMove, `exclusive ADD p50 is ${overFloor} ms above it (target <= ${TARGETS.exclusiveOverNicMoveP50Ms})`);
  console.log(`(a) ipvlan: ${ipvlan.note}`);
  const share = throughput.steadyPodsPerSecond ? ` = ${Math.round((100 * 1000) / PACE_MS / throughput.steadyPodsPerSecond)} % of (c)` : '';
  row(`(b) bind -> planned (${PACED_PODS} pods, 1/${PACE_MS} ms)`, paced.bindToPlanned, `arrivals ${round(1000 / PACE_MS, 1)}/s${share}`);
  row('(b) bind -> NodeNetwork attachment Ready', paced.bindToAttachmentReady);
  row('(b) bind -> pod Ready + podIP (kubelet)', paced.bindToReady, `target p99 <= ${TARGETS.bindToReadyP99Ms}`);
  row('(b) kubelet sandbox (netns + CNI ADD)', paced.kubeletSandboxMs, `${hist('agent ADDs', paced.agent.add)}; ${hist('plan waits', paced.agent.planWait)}`);
  const ctl = (v: typeof paced.agent, w: typeof bWrites, n: number) =>
    `NodeNetwork writes: ${w.controllerSpecWrites} spec (controller), ${w.agentStatusWrites} status (agent); controller: ${v.controllerNodeReconciles.count} node reconciles for ${n} pods (mean ${v.controllerNodeReconciles.meanMs} ms), allocation (pod seen -> plan written) mean ${v.controllerAllocation.meanMs} ms, p99 <= ${v.controllerAllocation.p99AtMostMs}`;
  console.log(`(b) ${ctl(paced.agent, bWrites, PACED_PODS)}; CPU ms per pod: agent ${paced.cpuPerPod.agentSelf} (+${paced.cpuPerPod.agentHelper} its eni-exec helper), kubelet ${paced.cpuPerPod.kubeletSelf} (+${paced.cpuPerPod.kubeletChildren} execs), controller ${paced.cpuPerPod.controller}`);
  row(`(c) burst of ${BURST_PODS}: bind -> attachment Ready`, burst.bindToAttachmentReady);
  row(`(c) burst of ${BURST_PODS}: bind -> pod Ready`, burst.bindToReady);
  console.log(`(c) pods per second per node: ${throughput.podsPerSecond} overall (${BURST_PODS} Ready in ${throughput.firstCreateToLastReadyMs} ms), ${throughput.steadyPodsPerSecond} steady (middle 80 %), kubelet workers ${KUBELET_WORKERS}`);
  console.log(`(c) ${ctl(burst.agent, cWrites, BURST_PODS)}; ${hist('agent ADDs', burst.agent.add)}`);
  const loads = Object.entries(loadAt).map(([k, v]) => {
    const f = Object.entries(v.foreign).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
    return `${k} ${v.loadavg1m}${f.length ? ` (+${f.join(', ')})` : ''}`;
  });
  console.log(`machine load (1 min avg; other runs' processes): ${loads.join('; ')}`);
  console.log(`wrote ${out} (total ${round(elapsed() / 1000)} s)`);
} catch (err) {
  console.error(`agent-datapath failed: ${err instanceof Error ? err.stack : String(err)}`);
  console.error(`logs (kept until teardown) in ${workDir}`);
  for (const f of ['controller.log', ...Object.values(NODES).flatMap((n) => [`${n.name}/agent.log`, `${n.name}/kubelet.log`])]) {
    try {
      console.error(`--- ${f} (last lines)\n${readFileSync(join(workDir, f), 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`);
    } catch {
      // not started
    }
  }
  await tearOnce().catch(() => undefined);
  process.exitCode = 1;
}
