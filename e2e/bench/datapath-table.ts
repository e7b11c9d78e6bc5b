// Benchmark: the seeds' datapath table. Latency (qperf tcp_lat / udp_lat, with
// the request/response rates they imply) and throughput (tcp_bw / udp_bw)
// between two pods on different nodes and on the same node, per datapath —
// veth policy routing and exclusive ENI wired by the agent's own Datapath,
// the reference `bridge` plugin (host-local, a VPC route per node range) —
// each as a ratio to the node-to-node floor measured in the same run, rounds
// interleaved. ipvlan needs a kernel this machine lacks: the same table is
// measured again inside the QEMU guest (e2e/guest), whose TCG emulation makes
// absolute numbers meaningless, so only its ratios are reported.
//
// Usage: node dist/e2e/bench/datapath-table.js            host run + guest run, table, JSON
//        node dist/e2e/bench/datapath-table.js --worker   one measurement, JSON on stdout (the guest runs this)
// Env: BENCH_QPERF_SECONDS (per test, default 3), BENCH_QPERF_ROUNDS (default 3),
//      BENCH_GUEST=0 to leave out the guest run (the ipvlan row stays empty and says so).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { ipvlanSupported } from '../../src/agent/datapath/capabilities.js';
import { stopExecHelper } from '../../src/agent/netlink/exec.js';
import { runInGuest } from '../guest/guest.js';
import { repoPath } from '../harness/paths.js';
import { DatapathWorld, type PodMode } from './datapath-world.js';
import { machineLoad, type MachineLoad } from './machine-load.js';
import { runQperf, startQperfServer, transactionsPerSecond, type QperfResult } from './qperf.js';

const QPERF_PORT = 19765;
const MARKER = 'DATAPATH-TABLE-JSON ';

export interface Metrics {
  tcpLatUs: number;
  udpLatUs: number;
  /** Transactions per second implied by the latencies (netperf's TCP_RR / UDP_RR). */
  tcpRR: number;
  udpRR: number;
  /** bytes per second */
  tcpBw: number;
  udpBw: number;
}

export interface Row {
  mode: 'floor' | PodMode;
  placement: 'node-to-node' | 'cross-node' | 'same-node';
  metrics: Metrics;
  /** The metric over the floor's: rates and bandwidths (1 = the floor, 0.9 = 10 % less). */
  vsFloor: { tcpRR: number; udpRR: number; tcpBw: number; udpBw: number };
  /** The same over the exclusive ENI's in the same placement (the seeds' baseline). */
  vsExclusive?: { tcpRR: number; udpRR: number; tcpBw: number; udpBw: number };
  rounds: QperfResult[];
}

export interface Measurement {
  kernel: string;
  seconds: number;
  rounds: number;
  modes: PodMode[];
  rows: Row[];
  load: { start: MachineLoad; end: MachineLoad };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function metricsOf(runs: QperfResult[]): Metrics {
  const tcpLatUs = median(runs.map((r) => r.tcpLatUs));
  const udpLatUs = median(runs.map((r) => r.udpLatUs));
  return { tcpLatUs, udpLatUs, tcpRR: transactionsPerSecond(tcpLatUs), udpRR: transactionsPerSecond(udpLatUs), tcpBw: median(runs.map((r) => r.tcpBw)), udpBw: median(runs.map((r) => r.udpRecvBw)) };
}

function ratio(m: Metrics, base: Metrics): Row['vsFloor'] {
  return { tcpRR: r3(m.tcpRR / base.tcpRR), udpRR: r3(m.udpRR / base.udpRR), tcpBw: r3(m.tcpBw / base.tcpBw), udpBw: r3(m.udpBw / base.udpBw) };
}

interface Pair {
  mode: Row['mode'];
  placement: Row['placement'];
  client: string;
  server: string;
  host: string;
}

/** Builds the world, wires the pods, runs every pair `rounds` times (interleaved, rotating the order), tears down. */
export async function measure(modes: PodMode[], seconds: number, rounds: number): Promise<Measurement> {
  const start = machineLoad(new Set([process.pid]));
  const world = await DatapathWorld.create();
  const servers: Awaited<ReturnType<typeof startQperfServer>>[] = [];
  try {
    const [n1, n2] = world.nodes;
    const pairs: Pair[] = [{ mode: 'floor', placement: 'node-to-node', client: n1.netns, server: n2.netns, host: n2.primaryIP }];
    for (const mode of modes) {
      const a = await world.addPod(mode, 1);
      const same = await world.addPod(mode, 1);
      const cross = await world.addPod(mode, 2);
      pairs.push({ mode, placement: 'cross-node', client: a.netns, server: cross.netns, host: cross.ip }, { mode, placement: 'same-node', client: a.netns, server: same.netns, host: same.ip });
    }
    for (const ns of new Set(pairs.map((p) => p.server))) servers.push(await startQperfServer(ns, QPERF_PORT));
    // Warm each path first (ARP, caches; under an emulated CPU, its translated code): untimed.
    for (const p of pairs) await runQperf(p.client, p.host, QPERF_PORT, 1);
    const runs = new Map<Pair, QperfResult[]>(pairs.map((p) => [p, []]));
    for (let round = 0; round < rounds; round++) {
      const order = [...pairs.slice(round % pairs.length), ...pairs.slice(0, round % pairs.length)];
      for (const p of order) {
        runs.get(p)!.push(await runQperf(p.client, p.host, QPERF_PORT, seconds).catch((err: Error) => {
          throw new Error(`${p.mode} ${p.placement}: ${err.message}`, { cause: err });
        }));
        process.stderr.write(`round ${round + 1}/${rounds}: ${p.mode} ${p.placement} done\n`);
      }
    }
    const floor = metricsOf(runs.get(pairs[0]!)!);
    const rows: Row[] = pairs.map((p) => ({ mode: p.mode, placement: p.placement, metrics: metricsOf(runs.get(p)!), vsFloor: ratio(metricsOf(runs.get(p)!), floor), rounds: runs.get(p)! }));
    for (const row of rows) {
      const excl = rows.find((r) => r.mode === 'exclusive' && r.placement === row.placement);
      if (excl && row.mode !== 'floor') row.vsExclusive = ratio(row.metrics, excl.metrics);
    }
    return { kernel: release(), seconds, rounds, modes, rows, load: { start, end: machineLoad(new Set([process.pid])) } };
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    await world.teardown();
    await stopExecHelper();
  }
}

// ------------------------------------------------------------------ host run

/** The seeds' figures (Alibaba Terway, relative to an exclusive ENI). */
const SEEDS: Partial<Record<PodMode, string>> = {
  ipvlan: 'Alibaba: IPVlan ≈ exclusive ENI',
  veth: 'Alibaba: policy routing ≈ −10 % tcp_rr, −8 % udp_rr, ½ the UDP throughput of an exclusive ENI',
  exclusive: 'Alibaba: the baseline',
};
const TARGETS = { exclusiveLatencyVsFloor: 0.95, vethLatencyVsFloor: 0.85 };

function table(m: Measurement, title: string): void {
  const pct = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(2)}`);
  console.log(`${title} (kernel ${m.kernel}; ${m.rounds} rounds of ${m.seconds} s per test; load ${m.load.start.loadavg1m} → ${m.load.end.loadavg1m})`);
  console.log(`${'datapath'.padEnd(26)}${['tcp_lat µs', 'udp_lat µs', 'tcp_bw MB/s', 'udp_bw MB/s', 'tcp_rr/floor', 'udp_rr/floor', 'tcp_bw/floor', 'udp_bw/floor', 'rr vs excl', 'udp_bw vs excl'].map((h) => h.padStart(15)).join('')}`);
  for (const r of m.rows) {
    const cells = [r.metrics.tcpLatUs.toFixed(1), r.metrics.udpLatUs.toFixed(1), (r.metrics.tcpBw / 1e6).toFixed(0), (r.metrics.udpBw / 1e6).toFixed(0), pct(r.vsFloor.tcpRR), pct(r.vsFloor.udpRR), pct(r.vsFloor.tcpBw), pct(r.vsFloor.udpBw), r.vsExclusive ? `${pct(r.vsExclusive.tcpRR)}/${pct(r.vsExclusive.udpRR)}` : '-', pct(r.vsExclusive?.udpBw)];
    console.log(`${`${r.mode} ${r.placement}`.padEnd(26)}${cells.map((c) => c.padStart(15)).join('')}`);
  }
}

async function guestRun(seconds: number): Promise<Measurement | { error: string }> {
  // TCG emulates every instruction: short tests, ratios only.
  const script = `node dist/e2e/bench/datapath-table.js --worker --modes veth,exclusive,ipvlan,bridge --seconds ${seconds} --rounds 3`;
  try {
    const r = await runInGuest({ script, timeoutMs: 1_800_000 });
    const line = r.output.split('\n').find((l) => l.startsWith(MARKER));
    if (r.exitCode !== 0 || !line) return { error: `guest run exited ${r.exitCode}: ${r.output.split('\n').slice(-15).join('\n')}` };
    return JSON.parse(line.slice(MARKER.length)) as Measurement;
  } catch (err) {
    return { error: String(err) };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { worker: { type: 'boolean' }, modes: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } } });
  const seconds = Number(values.seconds ?? process.env.BENCH_QPERF_SECONDS ?? 3);
  const rounds = Number(values.rounds ?? process.env.BENCH_QPERF_ROUNDS ?? 3);
  if (!(seconds >= 1 && rounds >= 1)) throw new Error('--seconds and --rounds must be at least 1');
  const here: PodMode[] = ['veth', 'exclusive', 'bridge', ...((await ipvlanSupported()) ? (['ipvlan'] as const) : [])];
  const modes = values.modes ? (values.modes.split(',') as PodMode[]) : here;
  if (values.worker) {
    process.stdout.write(`${MARKER}${JSON.stringify(await measure(modes, seconds, rounds))}\n`);
    return;
  }
  const host = await measure(modes, seconds, rounds);
  const guest = process.env.BENCH_GUEST === '0' ? { error: 'not run (BENCH_GUEST=0)' } : await guestRun(2);
  const out = {
    benchmark: 'datapath-table',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release() },
    tool: 'qperf 0.4.11 (Debian): tcp_lat, udp_lat (one-way latency; rr = 1 / (2 × latency)), tcp_bw, udp_bw (receiver)',
    setup: 'e2e/bench/datapath-world.ts: two node namespaces behind a VPC namespace (a bridge per subnet, nftables source checks per port); pods wired by the agent Datapath (veth, exclusive, ipvlan) or the reference bridge plugin (host-local, VPC routes per node range)',
    targets: TARGETS,
    seeds: SEEDS,
    host,
    guest,
  };
  mkdirSync(repoPath('bench', 'results'), { recursive: true });
  writeFileSync(repoPath('bench', 'results', 'datapath-table.json'), JSON.stringify(out, null, 2) + '\n');
  table(host, 'this machine');
  if ('error' in guest) console.log(`QEMU guest: ${guest.error}`);
  else table(guest, 'QEMU guest (TCG: ratios only)');
  for (const [mode, seed] of Object.entries(SEEDS)) console.log(`seed, ${mode}: ${seed}`);
  console.log(`targets: exclusive latency ≥ ${TARGETS.exclusiveLatencyVsFloor} of the floor; veth ≥ ${TARGETS.vethLatencyVsFloor}`);
  console.log(`wrote ${repoPath('bench', 'results', 'datapath-table.json')}`);
}

main().catch((err: unknown) => {
  console.error(`datapath-table failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
