// Benchmark: the controller as a real process (its own kubeconfig) against a
// real etcd + kube-apiserver and the cloud emulator (in this process, fast
// async delays, world config/cloudsim/bench-world.yaml).
//
//  (a) warm burst: 100 pods bound at once to one node whose pool already holds
//      the 100 addresses (+ its warm headroom): bind -> planned latency per pod
//      and the cloud API calls made during the burst (target: zero);
//  (b) cold start: 1000 pods over 20 nodes warmed only to the default targets,
//      created in waves: bind -> planned latency, cloud calls in total and per pod;
//  (c) steady churn: pods deleted and created at a fixed rate across the 20
//      nodes, this process playing the node agent (status Released for each
//      deleted pod): cloud calls per pod created (target <= 0.2);
//  (d) the controller's peak RSS (VmHWM).
//
// "bind -> planned" for one pod: from the moment the pod create call (with
// spec.nodeName set) returned to this process, to the moment a watch on
// NodeNetworks delivered a spec.attachments entry for that pod. Both instants
// are performance.now() of this process.
//
// Env: BENCH_CHURN_SECONDS (default 60), BENCH_CHURN_RATE (pods created and
// deleted per second during churn, default 10), BENCH_BUDGET_SECONDS (total
// run budget; churn is shortened to fit, default 230).
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { machineLoad } from './machine-load.js';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { API_VERSION, GROUP, VERSION } from '../../src/api/common.js';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NetworkMode } from '../../src/api/networkmode.js';
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { DEFAULT_NAMESPACE } from '../../src/api/rbac.js';
import { createEmulator } from '../../src/cloudsim/index.js';
import type { Stats } from '../../src/cloudsim/server.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { customInformer } from '../../src/controller/runtime/informer.js';
import { FAST_DELAYS } from '../harness/cloudsim.js';
import { ControlPlane } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { summarize, type Summary } from './stats.js';
import { shareConnections } from '../../src/kube/connections.js';

const began = performance.now();
const CHURN_SECONDS_ASKED = Number(process.env.BENCH_CHURN_SECONDS ?? 60);
const CHURN_RATE = Number(process.env.BENCH_CHURN_RATE ?? 10);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_SECONDS ?? 230) * 1000;
/** Kept free at the end of the budget for draining the churn and tearing down. */
const RESERVE_MS = 30_000;
const BURST_PODS = 100;
const NODES = 20;
const WAVES = 10;
const WAVE_PODS = 100;
const NS = 'bench';
const WORLD = 'config/cloudsim/bench-world.yaml';
const BURST_NODE = 'burst-node';
const nodeName = (i: number) => `bench-${String(i + 1).padStart(2, '0')}`;
const instanceOf = (i: number) => `i-bp1benchnode0000${String(i + 1).padStart(2, '0')}`; // 01 is the burst node's
// The burst node's pool: the 100 addresses, plus its warm headroom, held before the burst.
const BURST_POOL = { minIPs: BURST_PODS + 4, warmIPs: 4, maxIdleIPs: BURST_PODS + 4 };

const elapsed = () => performance.now() - began;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const say = (msg: string) => console.error(`[${(elapsed() / 1000).toFixed(1).padStart(6)} s] ${msg}`);

/**
 * What else loads this machine: the load average, and kube-apiservers and
 * eni-operator controllers that are not this benchmark's (other test runs).
 */
const ownPids = new Set<number>();
function contention(): { loadavg1m: number; foreignAPIServers: number; foreignControllers: number } {
  const m = machineLoad(ownPids);
  return { loadavg1m: m.loadavg1m, foreignAPIServers: m.foreign.apiservers, foreignControllers: m.foreign.controllers };
}
const contentionAt: Record<string, ReturnType<typeof contention>> = {};

// ---------------------------------------------------------------- cloud stats

type CallCounts = Record<string, number>;

function flatten(stats: Stats): CallCounts {
  const out: CallCounts = {};
  for (const byAction of Object.values(stats.calls)) for (const [action, byCode] of Object.entries(byAction)) out[action] = (out[action] ?? 0) + Object.values(byCode).reduce((a, b) => a + b, 0);
  return out;
}

function diff(after: CallCounts, before: CallCounts): { total: number; byAPI: CallCounts } {
  const byAPI: CallCounts = {};
  let total = 0;
  for (const [api, n] of Object.entries(after)) {
    const d = n - (before[api] ?? 0);
    if (d > 0) {
      byAPI[api] = d;
      total += d;
    }
  }
  return { total, byAPI };
}

// ---------------------------------------------------------------- pod tracking

interface Tracked {
  node: string;
  phase: string;
  uid?: string;
  /** performance.now() when the create call was sent / returned. */
  sent: number;
  created?: number;
  /** First time a NodeNetwork watch event carried its attachment. */
  seen?: number;
  /** Delete call returned; attachment gone from the plan. */
  deleted?: number;
  unplanned?: number;
}

const pods = new Map<string, Tracked>(); // key: namespace/name
const deletingByNode = new Map<string, Set<string>>(); // node -> keys deleted, attachment still planned

function onPlan(nn: NodeNetwork): void {
  const now = performance.now();
  const node = nn.metadata.name!;
  const planned = new Set<string>();
  for (const a of nn.spec.attachments ?? []) {
    const key = `${a.namespace}/${a.name}`;
    planned.add(key);
    const t = pods.get(key);
    if (t && t.seen === undefined) t.seen = now;
  }
  const deleting = deletingByNode.get(node);
  if (deleting) {
    for (const key of deleting) {
      if (planned.has(key)) continue;
      const t = pods.get(key)!;
      t.unplanned = now;
      deleting.delete(key);
    }
  }
}

/** bind -> planned in ms (create returned -> attachment seen), for pods of a phase. */
function latencies(phase: string): { fromCreateReturned: number[]; fromCreateSent: number[]; unplanned: number } {
  const fromCreateReturned: number[] = [];
  const fromCreateSent: number[] = [];
  let unplanned = 0;
  for (const t of pods.values()) {
    if (t.phase !== phase) continue;
    if (t.seen === undefined || t.created === undefined) {
      unplanned++;
      continue;
    }
    fromCreateReturned.push(round(t.seen - t.created));
    fromCreateSent.push(round(t.seen - t.sent));
  }
  return { fromCreateReturned, fromCreateSent, unplanned };
}

async function waitPlanned(phase: string, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    let waiting = 0;
    for (const t of pods.values()) if (t.phase === phase && (t.seen === undefined || t.created === undefined)) waiting++;
    if (waiting === 0 || performance.now() > until) return waiting;
    await sleep(20);
  }
}

// ---------------------------------------------------------------- setup

const cpDir = mkdtempSync(join(tmpdir(), 'eni-bench-alloc-'));
const logFile = join(tmpdir(), `eni-bench-controller-${process.pid}.log`);
say(`control plane in ${cpDir}; controller log ${logFile}`);
const cp = await ControlPlane.start({ dir: cpDir, id: `bench-alloc-${process.pid}`, removeDir: true });

// The harness's pids (setpriv execs etcd and kube-apiserver in the same pid).
for (const pid of cp.info.pids) ownPids.add(pid);
contentionAt.start = contention();
const spec = loadWorldSpec(repoPath(WORLD));
spec.delays = { ...FAST_DELAYS };
const simErrors: unknown[] = [];
const emulator = createEmulator(spec, { onError: (err) => simErrors.push(err) });
const simAddr = await emulator.listen(0, '127.0.0.1');
const simHost = `127.0.0.1:${simAddr.port}`;
const calls = () => flatten(emulator.getStats());
// IPs per AssignPrivateIpAddresses call, per phase (the world tells each assignment).
let phaseNow = 'warmup';
const assignSizes = new Map<string, number[]>();
emulator.world.on('assigned', (_eni: unknown, ips: string[]) => {
  let list = assignSizes.get(phaseNow);
  if (!list) assignSizes.set(phaseNow, (list = []));
  list.push(ips.length);
});
const assigns = (phase: string) => {
  const v = assignSizes.get(phase) ?? [];
  return { calls: v.length, ips: v.reduce((a, b) => a + b, 0), ipsPerCall: v.length ? summarize(v) : null };
};

// Connections are kept, as Kubernetes' own clients keep theirs: client-node alone would
// open one per request, and a burst of 100 creates would cost 100 TLS handshakes.
const kc = (identity: 'admin' | 'agent') => {
  const c = new k8s.KubeConfig();
  c.loadFromFile(cp.info.kubeconfigs[identity]);
  return shareConnections(c);
};
const adminKC = kc('admin');
const core = adminKC.makeApiClient(k8s.CoreV1Api);
const custom = adminKC.makeApiClient(k8s.CustomObjectsApi);
const agentCustom = kc('agent').makeApiClient(k8s.CustomObjectsApi);

let controller: ChildProcess | undefined;
let controllerExited: string | undefined;
const informerErrors: string[] = [];
const plans = customInformer<NodeNetwork>(adminKC, 'nodenetworks', { onError: (e) => informerErrors.push(`nodenetworks: ${String(e)}`) });
const pools = customInformer<ENIPool>(adminKC, 'enipools', { onError: (e) => informerErrors.push(`enipools: ${String(e)}`) });

async function teardown(): Promise<void> {
  if (controller && controller.exitCode === null && controller.signalCode === null) {
    const proc = controller;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000)));
    const stopped = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    if (!stopped) {
      say('controller did not exit 15 s after SIGTERM; killing it');
      proc.kill('SIGKILL');
      await exited;
    }
  }
  await Promise.all([plans.stop(), pools.stop()]).catch(() => undefined);
  await emulator.close();
  await cp.stop();
}

process.once('SIGINT', () => void teardown().finally(() => process.exit(130)));

try {
  const ali = spec.credentials.find((c) => c.provider === 'alibaba')!;
  await core.createNamespacedSecret({ namespace: DEFAULT_NAMESPACE, body: { metadata: { name: 'bench-credentials' }, stringData: { accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret } } });
  await core.createNamespace({ body: { metadata: { name: NS } } });
  // The controller-manager's ServiceAccount controller makes `default`; pods are refused until it has.
  for (const until = Date.now() + 30_000; !(await core.readNamespacedServiceAccount({ name: 'default', namespace: NS }).then(() => true, () => false)); ) {
    if (Date.now() > until) throw new Error(`no default ServiceAccount in ${NS} after 30 s: is kube-controller-manager running?`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const provider = { type: 'alibaba', region: 'cn-hangzhou', credentialsSecretRef: { name: 'bench-credentials', namespace: DEFAULT_NAMESPACE }, endpoint: simHost, allowInsecureHTTP: true };
  const mode = (name: string, pool: object) => ({
    apiVersion: API_VERSION,
    kind: 'NetworkMode',
    metadata: { name },
    spec: {
      nodeSelector: { matchLabels: { 'eni-operator.io/network': name } },
      provider,
      subnets: ['vsw-bp1benchpodsi0001', 'vsw-bp1benchpodsj0001'],
      securityGroups: ['sg-bp1benchpods000001'],
      pool,
    },
  });
  await custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'networkmodes', body: mode('bench-burst', BURST_POOL) });
  await custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'networkmodes', body: mode('bench', {}) });
  const modeSpec = ((await custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'networkmodes', name: 'bench' })) as NetworkMode).spec;
  const node = (name: string, network: string, instance: string) =>
    core.createNode({ body: { metadata: { name, labels: { 'eni-operator.io/network': network } }, spec: { providerID: `cn-hangzhou.${instance}` } } });
  await node(BURST_NODE, 'bench-burst', instanceOf(0));
  for (let i = 0; i < NODES; i++) await node(nodeName(i), 'bench', instanceOf(i + 1));

  plans.on('add', onPlan).on('update', (nn) => onPlan(nn));
  plans.start();
  pools.start();
  await Promise.all([plans.waitForSync(), pools.waitForSync()]);

  // The controller, as a process, with its own kubeconfig.
  const log = createWriteStream(logFile);
  // ENI_BENCH_CONTROLLER_NODE_ARGS: extra Node.js flags for the controller (e.g. --heapsnapshot-signal=SIGUSR2).
  const nodeArgs = (process.env.ENI_BENCH_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(
    process.execPath,
    [...nodeArgs, repoPath('dist/src/cmd/eni-operator.js'), 'controller', '--kubeconfig', cp.info.kubeconfigs.controller, '--cluster-id', 'bench', '--listen', '127.0.0.1:0', '--identity', 'bench', '--release-grace', '5m', '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  controller = proc;
  if (proc.pid) ownPids.add(proc.pid);
  proc.once('exit', (code, signal) => (controllerExited = `exit code ${code} signal ${signal}`));
  proc.stderr.on('data', (b: Buffer) => log.write(b));
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (l) => log.write(l + '\n'));
  const health = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      const m = /"health":"([^"]+)"/.exec(l);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`controller exited (${code}) before it listened; log: ${logFile}`)));
  });
  const scrape = async () => {
    const text = await (await fetch(`http://${health}/metrics`)).text();
    const total = (re: RegExp) => {
      let n = 0;
      for (const m of text.matchAll(re)) n += Number(m[1]);
      return n;
    };
    return {
      allocSum: total(/^eni_operator_allocation_latency_seconds_sum (\S+)$/gm),
      allocCount: total(/^eni_operator_allocation_latency_seconds_count (\S+)$/gm),
      cloudRequests: total(/^eni_operator_cloud_requests_total\{[^}]*\} (\S+)$/gm),
      nodeReconcileSum: total(/^eni_operator_reconcile_duration_seconds_sum\{[^}]*controller="node"[^}]*\} (\S+)$/gm),
      nodeReconcileCount: total(/^eni_operator_reconcile_duration_seconds_count\{[^}]*controller="node"[^}]*\} (\S+)$/gm),
      nodeReconcileErrors: total(/^eni_operator_reconcile_duration_seconds_count\{[^}]*controller="node"[^}]*result="error"[^}]*\} (\S+)$/gm),
      retries: total(/^eni_operator_workqueue_retries_total\{[^}]*\} (\S+)$/gm),
      ledgerWriteSum: total(/^eni_operator_kube_request_duration_seconds_sum\{(?=[^}]*resource="enipools\/status")(?=[^}]*verb="update")[^}]*\} (\S+)$/gm),
      ledgerWriteCount: total(/^eni_operator_kube_request_duration_seconds_count\{(?=[^}]*resource="enipools\/status")(?=[^}]*verb="update")[^}]*\} (\S+)$/gm),
      planWriteSum: total(/^eni_operator_kube_request_duration_seconds_sum\{(?=[^}]*resource="nodenetworks")(?=[^}]*verb="patch")[^}]*\} (\S+)$/gm),
      planWriteCount: total(/^eni_operator_kube_request_duration_seconds_count\{(?=[^}]*resource="nodenetworks")(?=[^}]*verb="patch")[^}]*\} (\S+)$/gm),
      heapUsedMiB: round(total(/^eni_operator_controller_nodejs_heap_size_used_bytes (\S+)$/gm) / 2 ** 20),
      heapTotalMiB: round(total(/^eni_operator_controller_nodejs_heap_size_total_bytes (\S+)$/gm) / 2 ** 20),
      externalMiB: round(total(/^eni_operator_controller_nodejs_external_memory_bytes (\S+)$/gm) / 2 ** 20),
    };
  };
  type Scrape = Awaited<ReturnType<typeof scrape>>;
  const controllerView = (a: Scrape, b: Scrape) => ({
    allocations: b.allocCount - a.allocCount,
    meanAllocationLatencyMs: b.allocCount > a.allocCount ? round(((b.allocSum - a.allocSum) / (b.allocCount - a.allocCount)) * 1000) : null,
    cloudRequests: b.cloudRequests - a.cloudRequests,
    nodeReconciles: b.nodeReconcileCount - a.nodeReconcileCount,
    nodeReconcileErrors: b.nodeReconcileErrors - a.nodeReconcileErrors,
    meanNodeReconcileMs: b.nodeReconcileCount > a.nodeReconcileCount ? round(((b.nodeReconcileSum - a.nodeReconcileSum) / (b.nodeReconcileCount - a.nodeReconcileCount)) * 1000) : null,
    workqueueRetries: b.retries - a.retries,
    // The API server's answer time for the two writes an allocation waits for (the controller's histogram).
    ledgerWrites: b.ledgerWriteCount - a.ledgerWriteCount,
    meanLedgerWriteMs: b.ledgerWriteCount > a.ledgerWriteCount ? round(((b.ledgerWriteSum - a.ledgerWriteSum) / (b.ledgerWriteCount - a.ledgerWriteCount)) * 1000) : null,
    planWrites: b.planWriteCount - a.planWriteCount,
    meanPlanWriteMs: b.planWriteCount > a.planWriteCount ? round(((b.planWriteSum - a.planWriteSum) / (b.planWriteCount - a.planWriteCount)) * 1000) : null,
    heapUsedMiBAtEnd: b.heapUsedMiB,
    heapTotalMiBAtEnd: b.heapTotalMiB,
    externalMiBAtEnd: b.externalMiB,
  });
  const memory = () => {
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: round(kB('VmRSS') / 1024), peakMiB: round(kB('VmHWM') / 1024) };
  };
  const memoryAt: Record<string, ReturnType<typeof memory>> = {};
  const alive = () => {
    if (controllerExited) throw new Error(`the controller died (${controllerExited}); log: ${logFile}`);
  };

  // Warm-up: every node onboarded, its pool at its targets, its ENIs attached.
  const warmStart = performance.now();
  const warm = (name: string, free: number) => {
    const p = pools.get(name);
    return (p?.status?.counts?.freeIPs ?? 0) >= free && (p?.status?.enis ?? []).every((e) => e.cloudState === 'InUse');
  };
  for (;;) {
    alive();
    const cold = [BURST_NODE, ...Array.from({ length: NODES }, (_, i) => nodeName(i))].filter((n) => !warm(n, n === BURST_NODE ? BURST_POOL.minIPs : modeSpec.pool.warmIPs));
    if (cold.length === 0) break;
    if (performance.now() - warmStart > 120_000) throw new Error(`pools not warm after 120 s: ${cold.join(', ')}`);
    await sleep(100);
  }
  const warmupMs = round(performance.now() - warmStart, 0);
  const warmupCalls = diff(calls(), {});
  memoryAt.afterWarmup = memory();
  contentionAt.afterWarmup = contention();
  say(`controller ${proc.pid} up; 21 pools warm in ${warmupMs} ms with ${warmupCalls.total} cloud calls`);

  const createPod = async (phase: string, name: string, node: string): Promise<void> => {
    const key = `${NS}/${name}`;
    const t: Tracked = { node, phase, sent: performance.now() };
    pods.set(key, t);
    const pod = await core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels: { bench: phase } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'example.invalid/pause' }] } } });
    t.created = performance.now();
    t.uid = pod.metadata!.uid!;
  };

  // ------------------------------------------------------------ (a) warm burst
  alive();
  phaseNow = 'burst';
  const aMetrics0 = await scrape();
  const aCalls0 = calls();
  const aStart = performance.now();
  await Promise.all(Array.from({ length: BURST_PODS }, (_, i) => createPod('burst', `a-${i}`, BURST_NODE)));
  const aCreatedMs = performance.now() - aStart;
  const aMissing = await waitPlanned('burst', 60_000);
  const aDurationMs = performance.now() - aStart;
  const aCalls = diff(calls(), aCalls0);
  await sleep(2000);
  const aCallsAfter = diff(calls(), aCalls0);
  const aMetrics1 = await scrape();
  const aLat = latencies('burst');
  // How the burst reached the plan: in how many NodeNetwork updates, and when the first and last pod got there.
  const aPods = [...pods.values()].filter((t) => t.phase === 'burst');
  const aTimeline = {
    lastCreateReturnedMs: round(Math.max(...aPods.map((t) => t.created ?? NaN)) - aStart),
    firstPlannedMs: round(Math.min(...aPods.map((t) => t.seen ?? Infinity)) - aStart),
    lastPlannedMs: round(Math.max(...aPods.map((t) => t.seen ?? -Infinity)) - aStart),
    planUpdatesCarryingBurstPods: new Set(aPods.map((t) => t.seen)).size,
    note: 'ms after the first create call was sent',
  };
  say(`(a) burst: ${BURST_PODS - aMissing}/${BURST_PODS} planned in ${round(aDurationMs, 0)} ms, ${aCalls.total} cloud calls`);

  // ------------------------------------------------------------ (b) cold start, in waves
  alive();
  memoryAt.afterBurst = memory();
  contentionAt.afterBurst = contention();
  phaseNow = 'cold';
  const bMetrics0 = await scrape();
  const bCalls0 = calls();
  const bStart = performance.now();
  const waveMs: number[] = [];
  let bMissing = 0;
  for (let w = 0; w < WAVES; w++) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: WAVE_PODS }, (_, i) => createPod('cold', `b-${w}-${i}`, nodeName(i % NODES))));
    bMissing = await waitPlanned('cold', 60_000);
    waveMs.push(round(performance.now() - t0, 0));
    alive();
    if (bMissing > 0) {
      say(`(b) wave ${w}: ${bMissing} pods not planned after 60 s; stopping the waves`);
      break;
    }
  }
  const bDurationMs = performance.now() - bStart;
  const bCalls = diff(calls(), bCalls0);
  const bMetrics1 = await scrape();
  const bLat = latencies('cold');
  say(`(b) cold: ${bLat.fromCreateReturned.length} planned in ${round(bDurationMs, 0)} ms, ${bCalls.total} cloud calls`);

  // ------------------------------------------------------------ (c) steady churn
  alive();
  const left = BUDGET_MS - elapsed() - RESERVE_MS;
  const churnSeconds = Math.max(10, Math.min(CHURN_SECONDS_ASKED, Math.floor(left / 1000)));
  const churnScaled = churnSeconds !== CHURN_SECONDS_ASKED;
  if (churnScaled) say(`(c) churn scaled from ${CHURN_SECONDS_ASKED} s to ${churnSeconds} s to stay within the ${BUDGET_MS / 1000} s budget`);

  // The agent: per node, status.attachments = Released for every deleted pod
  // whose attachment is still planned (a merge patch replaces the whole list).
  const agentBusy = new Map<string, Promise<void>>();
  const agentDirty = new Set<string>();
  const agentErrors: string[] = [];
  let agentPatches = 0;
  const agentReport = (node: string): void => {
    agentDirty.add(node);
    if (agentBusy.has(node)) return;
    const loop = async () => {
      while (agentDirty.delete(node)) {
        const released = [...(deletingByNode.get(node) ?? [])].map((key) => pods.get(key)!.uid!);
        const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        try {
          await agentCustom.patchClusterCustomObjectStatus(
            { group: GROUP, version: VERSION, plural: 'nodenetworks', name: node, body: { status: { attachments: released.map((podUID) => ({ podUID, state: 'Released', lastTransitionTime: stamp })) } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
          agentPatches++;
        } catch (err) {
          agentErrors.push(`${node}: ${err instanceof k8s.ApiException ? `HTTP ${err.code} ${String(err.body).slice(0, 300)}` : String(err)}`);
        }
      }
      agentBusy.delete(node);
    };
    agentBusy.set(node, loop());
  };
  const deletePod = async (key: string): Promise<void> => {
    const t = pods.get(key)!;
    const name = key.slice(NS.length + 1);
    await core.deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 });
    t.deleted = performance.now();
    let set = deletingByNode.get(t.node);
    if (!set) deletingByNode.set(t.node, (set = new Set()));
    set.add(key);
    agentReport(t.node);
  };

  const fifo = [...pods.entries()].filter(([, t]) => t.phase === 'cold' && t.seen !== undefined).map(([k]) => k);
  memoryAt.afterColdStart = memory();
  contentionAt.afterColdStart = contention();
  phaseNow = 'churn';
  const cMetrics0 = await scrape();
  const cCalls0 = calls();
  const cStart = performance.now();
  const periodMs = 1000 / CHURN_RATE;
  const halfAt = cStart + (churnSeconds * 1000) / 2;
  let cCallsHalf: CallCounts | undefined;
  let createdAtHalf = 0;
  let created = 0;
  let deleted = 0;
  let skipped = 0;
  let inFlight = 0;
  const opErrors: string[] = [];
  const ops: Promise<void>[] = [];
  const track = (p: Promise<void>) => {
    inFlight++;
    ops.push(p.catch((err: unknown) => void opErrors.push(String(err))).finally(() => inFlight--));
  };
  for (let tick = 0; ; tick++) {
    const due = cStart + tick * periodMs;
    if (due >= cStart + churnSeconds * 1000) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (!cCallsHalf && performance.now() >= halfAt) {
      cCallsHalf = calls();
      createdAtHalf = created;
    }
    if (inFlight > 64) {
      skipped++;
      continue;
    }
    const victim = fifo.shift();
    if (victim) {
      track(deletePod(victim));
      deleted++;
    }
    const name = `c-${tick}`;
    fifo.push(`${NS}/${name}`);
    track(createPod('churn', name, nodeName(tick % NODES)));
    created++;
  }
  await Promise.all(ops);
  const churnLoopMs = performance.now() - cStart;
  const cMissing = await waitPlanned('churn', 30_000);
  // Released addresses leave the plan once the controller has taken the agent's word.
  const releaseUntil = performance.now() + 15_000;
  while ([...deletingByNode.values()].some((s) => s.size > 0) && performance.now() < releaseUntil) await sleep(50);
  const cCallsEnd = calls();
  const cCalls = diff(cCallsEnd, cCalls0);
  const cCallsSecondHalf = diff(cCallsEnd, cCallsHalf ?? cCalls0);
  const cMetrics1 = await scrape();
  const cLat = latencies('churn');
  // bind -> planned of churn pods by the 10 s window they were created in: does the controller keep up?
  const windows: { fromS: number; pods: number; p50: number | null; p99: number | null }[] = [];
  for (let from = 0; from < churnSeconds; from += 10) {
    const v: number[] = [];
    for (const t of pods.values()) {
      if (t.phase !== 'churn' || t.created === undefined || t.seen === undefined) continue;
      const at = (t.sent - cStart) / 1000;
      if (at >= from && at < from + 10) v.push(round(t.seen - t.created));
    }
    const sm = v.length ? summarize(v) : undefined;
    windows.push({ fromS: from, pods: v.length, p50: sm?.median ?? null, p99: sm?.p99 ?? null });
  }
  const releaseMs: number[] = [];
  let stillPlanned = 0;
  for (const t of pods.values()) {
    if (t.deleted === undefined) continue;
    if (t.unplanned === undefined) stillPlanned++;
    else releaseMs.push(round(t.unplanned - t.deleted));
  }
  say(`(c) churn: ${created} created, ${deleted} deleted in ${round(churnLoopMs / 1000)} s, ${cCalls.total} cloud calls`);

  // ------------------------------------------------------------ (d) peak RSS
  alive();
  memoryAt.afterChurn = memory();
  contentionAt.afterChurn = contention();
  const rss = { peakMiB: memoryAt.afterChurn.peakMiB, endMiB: memoryAt.afterChurn.rssMiB, heapUsedMiBAtEnd: cMetrics1.heapUsedMiB, at: memoryAt };
  const poolCounts = Object.fromEntries(
    [BURST_NODE, ...Array.from({ length: NODES }, (_, i) => nodeName(i))].map((n) => [n, pools.get(n)?.status?.counts ?? null]),
  );

  await teardown();
  const logText = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const logLines = logText.split('\n').filter((l) => l.trim() !== '');
  const problems = logLines.filter((l) => /"level":"(warn|error)"/.test(l) || !l.startsWith('{'));

  const sum = (v: number[]): Summary | null => (v.length ? summarize(v) : null);
  const perPod = (n: number, pods: number) => (pods ? round(n / pods, 3) : null);
  const result = {
    benchmark: 'controller-allocation',
    unit: 'ms',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
    setup: {
      world: WORLD,
      emulator: { inProcess: true, delays: spec.delays, delaysNote: 'fast async delays (FAST_DELAYS of e2e/harness/cloudsim.ts), not the world file\'s realistic ones', serverRateLimits: spec.rateLimits ?? 'none' },
      controller: { process: 'node dist/src/cmd/eni-operator.js controller', workers: 4, releaseGrace: '5m', resync: '10m (default)', kubeconfig: 'controller identity (RBAC)' },
      networkModes: {
        'bench-burst': { nodes: 1, pool: BURST_POOL, rateLimit: modeSpec.provider.rateLimit },
        bench: { nodes: NODES, pool: modeSpec.pool, rateLimit: modeSpec.provider.rateLimit, datapath: modeSpec.datapath },
      },
      instanceType: 'ecs.g7.4xlarge: 8 ENIs x 30 IPs',
      latencyDefinition: 'bind -> planned: from the pod create call (spec.nodeName set) returning in this process to a NodeNetwork watch event (customInformer) carrying the pod\'s spec.attachments entry; fromCreateSent measures from just before the create call',
      apiClients: 'this process creates pods as admin over kept connections (shareConnections), as Kubernetes\' own clients do; until 2026-11-22 each create opened its own TLS connection',
      cloudCallsDefinition: 'emulator per-API call counts (all result codes), diffed from before the first create of a phase to the moment its last pod was seen planned (c: to the end of the drain)',
      warmup: { ms: warmupMs, cloudCalls: warmupCalls, assignPrivateIpAddresses: assigns('warmup') },
    },
    burst: {
      pods: BURST_PODS,
      node: BURST_NODE,
      createAllMs: round(aCreatedMs, 0),
      firstCreateToLastPlannedMs: round(aDurationMs, 0),
      timeline: aTimeline,
      unplanned: aMissing,
      bindToPlanned: sum(aLat.fromCreateReturned),
      bindToPlannedFromCreateSent: sum(aLat.fromCreateSent),
      cloudCallsDuringBurst: aCalls,
      assignPrivateIpAddresses: assigns('burst'),
      cloudCallsIncluding2sAfter: aCallsAfter,
      controllerMetrics: controllerView(aMetrics0, aMetrics1),
    },
    coldStart: {
      pods: WAVES * WAVE_PODS,
      nodes: NODES,
      waves: WAVES,
      podsPerWave: WAVE_PODS,
      waveMs,
      durationMs: round(bDurationMs, 0),
      unplanned: bLat.unplanned,
      bindToPlanned: sum(bLat.fromCreateReturned),
      bindToPlannedFromCreateSent: sum(bLat.fromCreateSent),
      cloudCalls: bCalls,
      cloudCallsPerPod: perPod(bCalls.total, bLat.fromCreateReturned.length),
      assignPrivateIpAddresses: assigns('cold'),
      controllerMetrics: controllerView(bMetrics0, bMetrics1),
    },
    churn: {
      secondsAsked: CHURN_SECONDS_ASKED,
      seconds: churnSeconds,
      scaled: churnScaled,
      ratePerSecond: CHURN_RATE,
      loopMs: round(churnLoopMs, 0),
      created,
      deleted,
      skippedTicks: skipped,
      unplanned: cMissing,
      bindToPlanned: sum(cLat.fromCreateReturned),
      bindToPlannedBy10sWindow: windows,
      releaseToUnplanned: sum(releaseMs),
      releaseNote: 'delete returned -> attachment gone from NodeNetwork spec (the agent reports Released right after the delete)',
      stillPlannedAfterDrain: stillPlanned,
      agentStatusPatches: agentPatches,
      agentErrors: agentErrors.slice(0, 20),
      operationErrors: opErrors.slice(0, 20),
      cloudCalls: cCalls,
      cloudCallsPerPodCreated: perPod(cCalls.total, created),
      assignPrivateIpAddresses: assigns('churn'),
      secondHalf: { podsCreated: created - createdAtHalf, cloudCalls: cCallsSecondHalf, cloudCallsPerPodCreated: perPod(cCallsSecondHalf.total, created - createdAtHalf) },
      controllerMetrics: controllerView(cMetrics0, cMetrics1),
    },
    controllerRSS: rss,
    machineLoad: { note: 'load average and other kube-apiservers / controllers (other test runs) seen on the machine at each point', at: contentionAt },
    poolCountsAtEnd: poolCounts,
    controllerLog: { file: logFile, lines: logLines.length, warnOrError: problems.length, firstProblems: problems.slice(0, 10) },
    informerErrors: informerErrors.slice(0, 10),
    emulatorErrors: simErrors.map(String).slice(0, 10),
    totalRunMs: round(elapsed(), 0),
    samples: {
      burstBindToPlanned: aLat.fromCreateReturned,
      ...(bLat.fromCreateReturned.length <= 2000 ? { coldStartBindToPlanned: bLat.fromCreateReturned } : {}),
    },
  };
  const out = repoPath('bench', 'results', 'controller-allocation.json');
  mkdirSync(repoPath('bench', 'results'), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');

  const cols = ['n', 'p50', 'p90', 'p99', 'max'];
  const row = (name: string, s: Summary | null, extra: string) =>
    `${name.padEnd(34)}${(s ? [s.n, s.median, s.p90, s.p99, s.max] : [0, '-', '-', '-', '-']).map((v) => String(v).padStart(8)).join('')}  ${extra}`;
  console.log(`${'controller allocation (ms)'.padEnd(34)}${cols.map((c) => c.padStart(8)).join('')}  cloud calls`);
  console.log(row(`(a) warm burst, ${BURST_PODS} pods / 1 node`, result.burst.bindToPlanned, `${aCalls.total} during burst (${aCallsAfter.total} incl. 2 s after)`));
  console.log(row(`(b) cold, ${WAVES * WAVE_PODS} pods / ${NODES} nodes`, result.coldStart.bindToPlanned, `${bCalls.total} total, ${result.coldStart.cloudCallsPerPod} per pod`));
  console.log(row(`(c) churn ${churnSeconds} s @ ${CHURN_RATE}/s`, result.churn.bindToPlanned, `${cCalls.total} total, ${result.churn.cloudCallsPerPodCreated} per pod created (2nd half ${result.churn.secondHalf.cloudCallsPerPodCreated})`));
  console.log(row('(c) delete -> unplanned', result.churn.releaseToUnplanned, `${stillPlanned} still planned after drain`));
  const batch = (phase: string) => {
    const x = assigns(phase);
    return x.calls ? `${x.calls} AssignPrivateIpAddresses calls, ${round(x.ips / x.calls, 2)} IPs per call` : 'no AssignPrivateIpAddresses calls';
  };
  console.log(`assign batching: (b) ${batch('cold')}; (c) ${batch('churn')}`);
  console.log(`(d) controller peak RSS (VmHWM) ${rss.peakMiB} MiB, at end ${rss.endMiB} MiB (heap used ${rss.heapUsedMiBAtEnd} MiB); log: ${logLines.length} lines, ${problems.length} warn/error`);
  const loads = Object.entries(contentionAt).map(([k, v]) => `${k} ${v.loadavg1m}${v.foreignAPIServers + v.foreignControllers ? ` (+${v.foreignAPIServers} other apiservers, ${v.foreignControllers} other controllers)` : ''}`);
  console.log(`machine load (1 min avg): ${loads.join('; ')}`);
  if (churnScaled) console.log(`note: churn scaled from ${CHURN_SECONDS_ASKED} s to ${churnSeconds} s to fit the ${BUDGET_MS / 1000} s budget`);
  const unplanned = aMissing + bLat.unplanned + cMissing;
  if (unplanned > 0) console.log(`WARNING: ${unplanned} pods were never planned; see ${logFile}`);
  console.log(`wrote ${out} (total ${round(elapsed() / 1000)} s)`);
} catch (err) {
  console.error(`controller-allocation failed: ${err instanceof Error ? err.stack : String(err)}`);
  if (existsSync(logFile)) console.error(`controller log (${logFile}), last lines:\n${readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n')}`);
  await teardown().catch(() => undefined);
  process.exitCode = 1;
}
