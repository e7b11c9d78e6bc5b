// Benchmark: the eni-cni plugin's exec-to-result time (spawn → exit, stdout
// read) and peak memory, which the runtime pays on every CNI call, apart from
// the agent's own ADD time — beside the reference `bridge` plugin measured in
// the same run. The agent here is the real CNI server with a handler that
// answers at once, so what remains of eni-cni is its start-up, the validation
// and one request over the unix socket; the bridge plugin does a whole ADD
// (bridge, veth pair, host-local address) into a fresh pod namespace. VERSION
// of each is its bare start-up. Variants run round-robin, so load from
// anything else on the machine falls on all of them alike.
//
// Runs itself inside a scratch node namespace (`ip netns exec`), where the
// bridge plugin makes its cni0, so nothing lands in the machine's own.
// Env: BENCH_RUNS (per variant, default 100).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCniServer } from '../../src/agent/cni-server.js';
import { postToAgent } from '../cni/agent-client.js';
import { commandPath, wireRequest } from '../../src/cni/protocol.js';
import { repoPath } from '../harness/paths.js';
import { machineLoad } from './machine-load.js';
import { summarize, type Summary } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const PLUGIN = repoPath('dist', 'bin', 'eni-cni');
const BRIDGE = '/usr/lib/cni/bridge';
const TARGETS = { maxRssMiB: 15, note: 'eni-cni ADD exec-to-result p50 no slower than the bridge plugin ADD p50, measured in the same run' };

interface Variant {
  name: string;
  note: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdin: string;
  /** stdout must contain this (the plugin's result), so a failing run is never timed as a fast one. */
  expect: string;
  /** Untimed, before and after each run (a fresh pod namespace for the bridge plugin). */
  before?: () => void;
  after?: () => void;
}

function execOnce(v: Variant, wrap: string[] = []): Promise<{ ms: number; stderr: string }> {
  v.before?.();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const [file, ...args] = [...wrap, v.file, ...v.args];
    const child = spawn(file!, args, { env: v.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      v.after?.();
      if (code !== 0 || !out.includes(v.expect)) reject(new Error(`${v.name}: ${v.file} exited ${code}: ${out}${err}`));
      else resolve({ ms, stderr: err });
    });
    // A program that exits without reading its stdin (the node floor) would otherwise raise EPIPE here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(v.stdin);
  });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const roundSummary = (s: Summary): Summary => ({ n: s.n, min: round2(s.min), median: round2(s.median), p90: round2(s.p90), p99: round2(s.p99), max: round2(s.max) });

/** Peak RSS (KiB) of one run, from GNU time (the `time` package): its -f %M goes to stderr last. */
async function maxRssKiB(v: Variant): Promise<number> {
  const { stderr } = await execOnce(v, ['/usr/bin/time', '-f', 'maxrss=%M']);
  const m = /maxrss=(\d+)\s*$/.exec(stderr);
  if (!m) throw new Error(`${v.name}: no maxrss in ${stderr}`);
  return Number(m[1]);
}

async function inside(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eni-bench-cni-'));
  const socket = join(dir, 'agent', 'agent.sock');
  const podNs = `benchcni-${process.pid}-pod`;
  const eniConf = { cniVersion: '1.0.0', name: 'bench', type: 'eni-cni', agentSocket: socket };
  const bridgeConf = { cniVersion: '1.0.0', name: 'bench-bridge', type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/16' }]], dataDir: join(dir, 'ipam') } };
  const attachmentEnv = { CNI_CONTAINERID: 'bench-1', CNI_NETNS: `/run/netns/${podNs}`, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench', CNI_PATH: '/usr/lib/cni' };
  const result = { interfaces: [{ name: 'eth0', sandbox: `/run/netns/${podNs}` }], ips: [{ address: '192.0.2.10/32', gateway: '169.254.1.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }] };
  const server = await startCniServer(socket, { add: () => Promise.resolve(result), del: () => Promise.resolve(), check: () => Promise.resolve() });
  const newPod = () => execFileSync('ip', ['netns', 'add', podNs]);
  const dropPod = () => {
    execFileSync(BRIDGE, [], { env: { ...attachmentEnv, CNI_COMMAND: 'DEL' }, input: JSON.stringify(bridgeConf) });
    execFileSync('ip', ['netns', 'del', podNs]);
  };
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, '');
  const versionStdin = '{"cniVersion":"1.0.0"}';
  const variants: Variant[] = [
    { name: 'eni-cni ADD', note: 'the native plugin: validate, one request to an agent that answers at once, print the result', file: PLUGIN, args: [], env: { ...attachmentEnv, CNI_COMMAND: 'ADD' }, stdin: JSON.stringify(eniConf), expect: '192.0.2.10/32' },
    { name: 'bridge ADD', note: 'the reference bridge plugin: a whole ADD (cni0, veth pair, host-local address) into a fresh pod namespace', file: BRIDGE, args: [], env: { ...attachmentEnv, CNI_COMMAND: 'ADD' }, stdin: JSON.stringify(bridgeConf), expect: '10.244.', before: newPod, after: dropPod },
    { name: 'eni-cni VERSION', note: 'bare start-up of the native plugin', file: PLUGIN, args: [], env: { CNI_COMMAND: 'VERSION' }, stdin: versionStdin, expect: 'supportedVersions' },
    { name: 'bridge VERSION', note: 'bare start-up of the bridge plugin', file: BRIDGE, args: [], env: { CNI_COMMAND: 'VERSION' }, stdin: versionStdin, expect: 'supportedVersions' },
    { name: 'node floor', note: 'node running an empty ES module: what the Node.js plugin this one replaced could never beat', file: process.execPath, args: [empty], env: {}, stdin: '', expect: '' },
  ];
  try {
    const load0 = machineLoad(new Set([process.pid]));
    for (const v of variants) await execOnce(v); // warm the page cache
    const samples = variants.map((): number[] => []);
    for (let i = 0; i < RUNS; i++) for (const [j, v] of variants.entries()) samples[j]!.push((await execOnce(v)).ms);
    const rss = variants.map((): number[] => []);
    for (let i = 0; i < 10; i++) for (const [j, v] of variants.entries()) rss[j]!.push(await maxRssKiB(v));
    const exec: Record<string, Summary & { note: string; maxRssMiB: number }> = {};
    variants.forEach((v, j) => (exec[v.name] = { ...roundSummary(summarize(samples[j]!)), maxRssMiB: round2(Math.max(...rss[j]!) / 1024), note: v.note }));

    // The same request without the exec: what the socket round trip and the agent's side cost.
    const body = JSON.stringify(wireRequest({ ...attachmentEnv, CNI_COMMAND: 'ADD' }, eniConf));
    const inProcess: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      await postToAgent(socket, commandPath('ADD'), body, 5000);
      inProcess.push(performance.now() - t0);
    }
    const eni = exec['eni-cni ADD']!;
    const bridge = exec['bridge ADD']!;
    const out = {
      benchmark: 'cni-exec',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, load: { start: load0, end: machineLoad(new Set([process.pid])) } },
      setup: { runs: RUNS, rssRuns: 10, unit: 'ms', handler: 'answers at once', maxRss: 'GNU time %M over 10 runs per variant, the largest' },
      targets: TARGETS,
      verdict: { addP50VsBridge: round2(eni.median / bridge.median), addNoSlowerThanBridge: eni.median <= bridge.median, maxRssMiB: eni.maxRssMiB, maxRssMet: eni.maxRssMiB <= TARGETS.maxRssMiB },
      exec,
      requestRoundTrip: { ...roundSummary(summarize(inProcess)), note: 'the same ADD in-process (e2e/cni/agent-client.ts), 1000 requests: socket + HTTP + the agent\'s validation + the (immediate) handler' },
    };
    mkdirSync(repoPath('bench', 'results'), { recursive: true });
    writeFileSync(repoPath('bench', 'results', 'cni-exec.json'), JSON.stringify(out, null, 2) + '\n');
    const cell = (n: number) => n.toFixed(2).padStart(9);
    console.log(`${'variant'.padEnd(22)}${['min ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'max RSS MiB'].map((h) => h.padStart(h.length > 9 ? 13 : 9)).join('')}`);
    for (const [name, s] of Object.entries(exec)) console.log(`${name.padEnd(22)}${cell(s.min)}${cell(s.median)}${cell(s.p90)}${cell(s.p99)}${cell(s.max)}${s.maxRssMiB.toFixed(2).padStart(13)}`);
    console.log(`${'round trip (no exec)'.padEnd(22)}${cell(out.requestRoundTrip.min)}${cell(out.requestRoundTrip.median)}${cell(out.requestRoundTrip.p90)}${cell(out.requestRoundTrip.p99)}${cell(out.requestRoundTrip.max)}`);
    console.log(`eni-cni ADD p50 = ${out.verdict.addP50VsBridge} × bridge ADD p50 (target ≤ 1); eni-cni peak RSS ${eni.maxRssMiB} MiB (target ≤ ${TARGETS.maxRssMiB}); load ${load0.loadavg1m} → ${out.machine.load.end.loadavg1m}`);
    console.log(`wrote ${repoPath('bench', 'results', 'cni-exec.json')}`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync('ip', ['netns', 'del', podNs], { stdio: 'ignore' });
    } catch {
      // not left behind
    }
  }
}

if (process.argv.includes('--inside')) {
  await inside().catch((err: unknown) => {
    console.error(`cni-exec failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
} else {
  // A scratch node namespace: the bridge plugin's cni0 and veths go there, not into the machine's.
  const node = `benchcni-${process.pid}-node`;
  execFileSync('ip', ['netns', 'add', node]);
  try {
    execFileSync('ip', ['netns', 'exec', node, process.execPath, fileURLToPath(import.meta.url), '--inside'], { stdio: 'inherit' });
  } finally {
    execFileSync('ip', ['netns', 'del', node]);
  }
}
