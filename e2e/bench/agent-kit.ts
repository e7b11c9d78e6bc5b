// Pieces of the agent benchmark (agent-datapath.ts): the node agent and the
// simulated kubelet as processes on a fabric node, CNI ADD/DEL sent straight to
// an agent's socket (as the plugin sends them) or through the eni-cni plugin
// exec'd as a runtime does, the agent's CNI histogram, and what else loads the
// machine.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postToAgent } from '../cni/agent-client.js';
import { commandPath, wireRequest } from '../../src/cni/protocol.js';
import { CNIRuntime, type CNIResult, type NetworkConfigList, type RuntimeConf } from '../kubelet/cni.js';
import { netnsPath } from '../kubelet/netns.js';
import { repoPath } from '../harness/paths.js';
import type { ProcessGroup } from '../harness/processes.js';

/**
 * Kernel-name prefix of the run: the fabric's namespaces and every pod
 * namespace of the benchmark start with `benchag-`, so the next run's fabric
 * start (or `cleanupFabric('benchag')`) sweeps what a crashed run left.
 */
export const FABRIC_PREFIX = 'benchag';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
export { machineLoad, type MachineLoad } from './machine-load.js';

export interface BenchNode {
  name: string;
  instance: string;
  /** The node's namespace in the fabric. */
  netns: string;
  primaryIP: string;
  dir: string;
  socket: string;
  /** The CNI configuration a runtime on this node reads. */
  conf: NetworkConfigList;
  agent?: ChildProcess;
  /** host:port of the agent's /metrics. */
  health?: string;
  kubelet?: ChildProcess;
}

export function benchNode(workDir: string, name: string, instance: string, netns: string, primaryIP: string): BenchNode {
  const dir = join(workDir, name);
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  const socket = join(dir, 'run', 'agent.sock');
  return { name, instance, netns, primaryIP, dir, socket, conf: { cniVersion: '1.0.0', name: 'eni', plugins: [{ type: 'eni-cni', agentSocket: socket, timeoutMs: 30_000 }] } };
}

export async function waitForLine(file: string, needle: string, ms: number, proc: ChildProcess): Promise<string> {
  for (const until = Date.now() + ms; ; await sleep(50)) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    const line = text.split('\n').find((l) => l.includes(needle));
    if (line) return line;
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > until) {
      throw new Error(`${file}: no ${JSON.stringify(needle)} (${proc.exitCode !== null || proc.signalCode !== null ? 'the process exited' : `${ms} ms`}):\n${text.slice(-3000)}`);
    }
  }
}

/** Starts the node's agent, acting on the node's fabric namespace; resolves when it serves the CNI socket. */
export async function startAgent(group: ProcessGroup, node: BenchNode, kubeconfig: string): Promise<void> {
  const log = join(node.dir, 'agent.log');
  // BENCH_AGENT_CPU_PROF=<dir>: V8 CPU profiles of the agents, written when they exit (for finding where an ADD's time goes).
  const profile = process.env.BENCH_AGENT_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_AGENT_CPU_PROF] : [];
  node.agent = group.start(
    `agent-${node.name}`,
    process.execPath,
    [...profile, repoPath('dist/src/cmd/eni-operator.js'), 'agent', '--kubeconfig', kubeconfig, '--node', node.name, '--node-netns', node.netns, '--socket', node.socket, '--state-dir', join(node.dir, 'run'), '--listen', '127.0.0.1:0', '--plan-wait', '20s'],
    log,
  );
  const ready = await waitForLine(log, '"agent ready"', 30_000, node.agent);
  const health = /"health":"([^"]+)"/.exec(ready)?.[1];
  if (!health) throw new Error(`agent of ${node.name}: no health address in ${ready}`);
  node.health = health;
}

/**
 * Starts a simulated kubelet for the node whose CNI is eni-cni (symlinked into
 * `binDir`, as a runtime finds it). `pause`: containers are a `sleep`
 * (pause-kubelet.js) instead of the stock node echo server.
 */
export async function startKubelet(group: ProcessGroup, node: BenchNode, opts: { kubeconfig: string; binDir: string; netnsPrefix: string; workers: number; pause: boolean }): Promise<void> {
  const confDir = join(node.dir, 'net.d');
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, '10-eni.conflist'), JSON.stringify(node.conf));
  const log = join(node.dir, 'kubelet.log');
  node.kubelet = group.start(
    `kubelet-${node.name}`,
    process.execPath,
    [
      repoPath(opts.pause ? 'dist/e2e/bench/pause-kubelet.js' : 'dist/e2e/kubelet/main.js'),
      ...['--kubeconfig', opts.kubeconfig, '--node', node.name, '--node-netns', node.netns, '--node-ip', node.primaryIP],
      ...['--netns-prefix', opts.netnsPrefix, '--cni-bin-dir', opts.binDir, '--cni-conf-dir', confDir, '--state-dir', join(node.dir, 'kubelet')],
      ...['--backoff-initial', '500ms', '--backoff-max', '4s', '--workers', String(opts.workers)],
    ],
    log,
  );
  await waitForLine(log, '"kubelet started"', 30_000, node.kubelet);
}

/** A directory holding `eni-cni`, a symlink to the compiled plugin (its shebang picks node from PATH). */
export function pluginBinDir(workDir: string): string {
  const bin = join(workDir, 'cni-bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(repoPath('dist/bin/eni-cni'), join(bin, 'eni-cni'));
  return bin;
}

// ---------------------------------------------------------------- CNI calls

/** One pod sandbox: its namespace (named `name` under /run/netns) is also its container ID. */
export interface Sandbox {
  name: string;
  pod: { namespace: string; name: string; uid: string };
}

export function runtimeConf(sb: Sandbox): RuntimeConf {
  const args: [string, string][] = [
    ['K8S_POD_NAMESPACE', sb.pod.namespace],
    ['K8S_POD_NAME', sb.pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', sb.name],
    ['K8S_POD_UID', sb.pod.uid],
  ];
  return { containerId: sb.name, netns: netnsPath(sb.name), ifName: 'eth0', args };
}

/** The request body eni-cni would send for `command` (the CNI_* variables a runtime sets, the plugin's config as the runtime hands it over). */
function agentBody(command: 'ADD' | 'DEL', conf: NetworkConfigList, sb: Sandbox): string {
  const rt = runtimeConf(sb);
  const env = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_ARGS: [['IgnoreUnknown', '1'], ...rt.args].map(([k, v]) => `${k}=${v}`).join(';'),
  };
  const plugin = conf.plugins[0]!;
  return JSON.stringify(wireRequest(env, { ...plugin, cniVersion: conf.cniVersion, name: conf.name }));
}

export interface Timed {
  ms: number;
  /** The pod's first address (no prefix length). */
  ip: string;
}

function firstIP(result: CNIResult, how: string): string {
  const ip = result.ips?.[0]?.address.split('/')[0];
  if (!ip) throw new Error(`${how}: the result has no address: ${JSON.stringify(result)}`);
  return ip;
}

/** A request over the agent's socket, the way eni-cni sends it; timed from connect to the whole answer. */
async function direct(command: 'ADD' | 'DEL', node: BenchNode, sb: Sandbox): Promise<{ ms: number; body: string }> {
  const body = agentBody(command, node.conf, sb);
  const t0 = performance.now();
  const res = await postToAgent(node.socket, commandPath(command), body, 30_000);
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${command} ${sb.pod.name} on ${node.name}: HTTP ${res.status} ${res.body}`);
  return { ms, body: res.body };
}

export async function addDirect(node: BenchNode, sb: Sandbox): Promise<Timed> {
  const { ms, body } = await direct('ADD', node, sb);
  return { ms, ip: firstIP(JSON.parse(body) as CNIResult, `ADD ${sb.pod.name}`) };
}

export async function delDirect(node: BenchNode, sb: Sandbox): Promise<number> {
  return (await direct('DEL', node, sb)).ms;
}

/** ADD by exec'ing the plugin as the simulated kubelet does (nsenter into the node namespace, CNI env, config on stdin); timed from spawn to exit. */
export async function addPlugin(node: BenchNode, binDir: string, sb: Sandbox): Promise<Timed> {
  const runtime = new CNIRuntime({ binDirs: [binDir], hostNetns: netnsPath(node.netns) });
  const t0 = performance.now();
  const result = await runtime.add(node.conf, runtimeConf(sb));
  return { ms: performance.now() - t0, ip: firstIP(result, `plugin ADD ${sb.pod.name}`) };
}

// ---------------------------------------------------------------- agent metrics

/** One histogram series: cumulative bucket counts by upper bound (seconds), sum and count. */
export interface Histogram {
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** A histogram of a component's /metrics, summed over the series whose labels include every `labels` pair. */
export async function scrapeHistogram(health: string, name: string, labels: Record<string, string>): Promise<Histogram> {
  return parseHistogram(await (await fetch(`http://${health}/metrics`)).text(), name, labels);
}

/** The histogram `name` of a Prometheus text exposition, summed over the series whose labels include every `labels` pair. Pure. */
export function parseHistogram(text: string, name: string, labels: Record<string, string>): Histogram {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const h: Histogram = { buckets: [], sum: 0, count: 0 };
  // A histogram without labels has none on _sum and _count either.
  for (const m of text.matchAll(new RegExp(`^${name}_(bucket|sum|count)(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (!wanted.every((w) => (m[2] ?? '').includes(w))) continue;
    const value = Number(m[3]);
    if (m[1] === 'sum') h.sum += value;
    else if (m[1] === 'count') h.count += value;
    else {
      const bound = /le="([^"]+)"/.exec(m[2] ?? '')?.[1];
      if (bound === undefined) continue;
      const le = bound === '+Inf' ? Infinity : Number(bound);
      const at = h.buckets.find((b) => b[0] === le);
      if (at) at[1] += value;
      else h.buckets.push([le, value]);
    }
  }
  h.buckets.sort((a, b) => a[0] - b[0]);
  return h;
}

/** The agent's CNI request histogram for `command`, successful requests (request in -> answer out). */
export const scrapeCniHistogram = (health: string, command: 'ADD' | 'DEL') => scrapeHistogram(health, 'eni_operator_cni_request_duration_seconds', { command, result: 'ok' });

/** How long ADDs waited for the controller's plan to name their pod (found or not). */
export const scrapePlanWait = (health: string) => scrapeHistogram(health, 'eni_operator_agent_plan_wait_seconds', {});

/**
 * What the agent observed between two scrapes: count, mean, and for p50 / p99
 * the upper bound of the bucket holding that rank (a histogram can say no more).
 */
export function histogramDelta(before: Histogram, after: Histogram): { count: number; meanMs: number | null; p50AtMostMs: number | '+Inf' | null; p99AtMostMs: number | '+Inf' | null; bucketsMs: Record<string, number> } {
  const count = after.count - before.count;
  const prior = new Map(before.buckets);
  const cumulative = after.buckets.map(([le, n]) => [le, n - (prior.get(le) ?? 0)] as const);
  const bound = (q: number) => {
    if (count === 0) return null;
    const rank = Math.ceil(q * count);
    const hit = cumulative.find(([, n]) => n >= rank);
    // '+Inf' (beyond the last bound) as a string: JSON has no Infinity.
    return hit ? (Number.isFinite(hit[0]) ? round(hit[0] * 1000, 2) : '+Inf') : null;
  };
  return {
    count,
    meanMs: count ? round(((after.sum - before.sum) / count) * 1000, 2) : null,
    p50AtMostMs: bound(0.5),
    p99AtMostMs: bound(0.99),
    // Keys that are not array indices keep their order in JSON.
    bucketsMs: Object.fromEntries(cumulative.map(([le, n]) => [`<=${Number.isFinite(le) ? round(le * 1000, 2) : '+Inf'}`, n])),
  };
}

// ---------------------------------------------------------------- load and CPU

/** The agent's eni-exec helper (its child that does the kernel work), if it runs. */
export function helperOf(agentPid: number | undefined): number | undefined {
  if (agentPid === undefined) return undefined;
  try {
    for (const tid of readdirSync(`/proc/${agentPid}/task`)) {
      for (const child of readFileSync(`/proc/${agentPid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'eni-exec') return child;
      }
    }
  } catch {
    // the agent is gone
  }
  return undefined;
}

/** CPU time of a process and of its waited-for children (e.g. `ip` and plugin execs), in ms (/proc reports USER_HZ = 100 ticks per second). */
export function cpuMs(pid: number | undefined): { self: number; children: number } {
  if (pid === undefined) return { self: NaN, children: NaN };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat(5), counted from field 3 here.
    const n = (i: number) => Number(f[i - 3]) * 10;
    return { self: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return { self: NaN, children: NaN };
  }
}

