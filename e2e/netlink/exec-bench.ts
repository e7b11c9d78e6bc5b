// How long execute() takes, and how long it blocks the event loop, in a
// process with an agent-sized JS heap: the helper against direct spawn.
//
// Usage: node dist/e2e/netlink/exec-bench.js [runs=200] [heapMiB=150]
// Each mode runs in a fresh child process of this script, so each has its own heap.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execMode, execute, stopExecHelper } from '../../src/agent/netlink/exec.js';
import { summarize, type Summary } from '../bench/stats.js';

interface Report {
  mode: string;
  heapMiB: number;
  ballastObjects: number;
  /** Call to result. */
  totalMs: Summary;
  /** The synchronous part of the call: what other work on the event loop waits for. */
  blockedMs: Summary;
}

/** Grows the JS heap to ~mib MiB of small live objects, the way a long-running agent's heap looks to fork(). */
function ballast(mib: number): unknown[] {
  const keep: unknown[] = [];
  while (process.memoryUsage().heapUsed < mib * 2 ** 20) {
    for (let i = 0; i < 10_000; i++) keep.push({ i, s: `entry-${keep.length}`.padEnd(64, '.') });
  }
  return keep;
}

async function measure(runs: number, heapMiB: number): Promise<Report> {
  const keep = ballast(heapMiB);
  const total: number[] = [];
  const blocked: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    const t0 = performance.now();
    const pending = execute('ip', ['-json', 'link', 'show']);
    const t1 = performance.now();
    const r = await pending;
    const t2 = performance.now();
    if (r.code !== 0) throw new Error(`ip failed: ${r.stderr}`);
    if (i < 20) continue; // warm-up: first spawn, JIT
    blocked.push(t1 - t0);
    total.push(t2 - t0);
  }
  await stopExecHelper();
  return { mode: execMode(), heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20), ballastObjects: keep.length, totalMs: summarize(total), blockedMs: summarize(blocked) };
}

const fmt = (s: Summary): string => `p50 ${s.median.toFixed(2)}  p90 ${s.p90.toFixed(2)}  p99 ${s.p99.toFixed(2)}  max ${s.max.toFixed(2)}`;

async function main(): Promise<void> {
  const [runs = '200', heap = '150', child] = process.argv.slice(2);
  if (child === 'child') {
    process.stdout.write(JSON.stringify(await measure(Number(runs), Number(heap))) + '\n');
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const helper of ['', 'off']) {
    const out = execFileSync(process.execPath, [self, runs, heap, 'child'], { env: { ...process.env, ENI_EXEC_HELPER: helper }, encoding: 'utf8' });
    const r = JSON.parse(out) as Report;
    console.log(`${r.mode.padEnd(6)} heap ${r.heapMiB} MiB, ${runs}x ip -json link show: total ${fmt(r.totalMs)} ms | event loop blocked ${fmt(r.blockedMs)} ms`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
