// No CNI ADD or DEL starts a process: all the agent's kernel work is netlink
// requests to its eni-exec helper. Watched from outside, by strace attached to
// a real agent (and every thread of it and of its helper) while the simulated
// kubelet creates and deletes shared and exclusive pods through the native
// eni-cni plugin: any execve, fork, vfork, or clone that is not a new thread
// in either process would show. Its drift repair runs every 2 s meanwhile and
// is watched too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCluster, eventually } from '../agent/kit.js';

/** A process start in strace's output, or undefined: exec*, fork, vfork, or a clone without CLONE_THREAD. */
function processStart(line: string): string | undefined {
  if (/\b(execve|execveat|fork|vfork)\(/.test(line) && !/resumed>/.test(line)) return line;
  const clone = /\bclone3?\((.*)/.exec(line);
  if (!clone || /resumed>/.test(line)) return undefined;
  return /CLONE_THREAD/.test(clone[1]!) ? undefined : line;
}

class Strace {
  private constructor(
    private readonly child: ChildProcess,
    readonly output: string,
  ) {}

  /** Attaches to every thread of the processes (and anything they start); resolves once all are attached. */
  static async attach(pids: number[]): Promise<Strace> {
    const output = join(tmpdir(), `eni-noproc-${process.pid}-${Date.now()}.strace`);
    let stderr = '';
    const child = spawn('strace', ['-f', '-e', 'trace=execve,execveat,fork,vfork,clone,clone3', '-o', output, ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // One "Process N attached [with M threads]" line per process.
    await eventually(`strace attached to ${pids.join(', ')}`, () => (pids.every((p) => new RegExp(`Process ${p} attached`).test(stderr)) ? true : undefined), 20_000, 20);
    return new Strace(child, output);
  }

  /** Detaches and returns what it saw: the process starts, and the threads it had attached to. */
  async stop(): Promise<{ starts: string[]; lines: number }> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGINT');
    await exited;
    const text = existsSync(this.output) ? readFileSync(this.output, 'utf8') : '';
    rmSync(this.output, { force: true });
    const lines = text.split('\n').filter(Boolean);
    return { starts: lines.flatMap((l) => processStart(l) ?? []), lines: lines.length };
  }
}

/** The children of every thread of pid (Node spawns from its main thread, but look at all). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    const text = existsSync(`/proc/${pid}/task/${tid}/children`) ? readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8') : '';
    return text.split(' ').filter(Boolean).map(Number);
  });
}

function comm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/** Sum of a counter's samples whose labels include every given pair. */
function counter(metrics: string, name: string, labels: string[]): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

let c: AgentCluster;

beforeAll(async () => {
  c = await AgentCluster.start({ scenario: 'agnop', prefix: 'agnop', instances: ['i-bp1simnode000000002'] });
}, 120_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

test('the watcher sees a process start when there is one (and not a new thread)', async () => {
  const script = [
    "const { spawnSync } = require('node:child_process');",
    "const { Worker } = require('node:worker_threads');",
    "setTimeout(() => { new Worker('setTimeout(() => {}, 200)', { eval: true }); spawnSync('true'); }, 1500);",
  ].join('\n');
  const node = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const trace = await Strace.attach([node.pid!]);
  await new Promise((resolve) => node.once('exit', resolve));
  const seen = await trace.stop();
  expect(seen.starts.length).toBeGreaterThanOrEqual(2); // the fork/clone and the exec of `true`
  expect(seen.starts.some((l) => /execve\(".*true"/.test(l))).toBe(true);
  expect(seen.lines).toBeGreaterThan(seen.starts.length); // the worker's thread was seen, and not counted
}, 60_000);

test('ADD and DEL of shared and exclusive pods start no process in the agent or its helper', async () => {
  const node = c.nodes[0]!;
  const agent = node.agent!.pid!;
  const helpers = childrenOf(agent).filter((pid) => comm(pid) === 'eni-exec');
  expect(helpers).toHaveLength(1);
  const metrics0 = await c.agentMetrics(node);
  const trace = await Strace.attach([agent, ...helpers]);
  let seen: { starts: string[]; lines: number };
  const names = ['s1', 's2', 's3', 's4', 'x1'];
  try {
    await Promise.all(names.map((n) => c.createPod(n, node, n.startsWith('x'))));
    await c.runningPods(names, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${c.logs()}`);
    });
    await Promise.all(names.map((n) => c.deletePod(n)));
    await eventually('pods deleted', async () => ((await Promise.all(names.map((n) => c.pod(n)))).every((p) => p === undefined) ? true : undefined), 60_000, 200);
  } finally {
    seen = await trace.stop();
  }
  const metrics1 = await c.agentMetrics(node);
  // The agent did the work while watched: every ADD and DEL of these pods (and repairs) ran under strace.
  const done = (command: string, m: string) => counter(m, 'eni_operator_cni_requests_total', [`command="${command}"`, 'result="ok"']);
  expect(done('ADD', metrics1) - done('ADD', metrics0)).toBeGreaterThanOrEqual(names.length);
  expect(done('DEL', metrics1) - done('DEL', metrics0)).toBeGreaterThanOrEqual(names.length);
  expect(childrenOf(agent).filter((pid) => comm(pid) === 'eni-exec')).toEqual(helpers); // the same helper throughout
  expect(seen.starts).toEqual([]);
}, 300_000);
