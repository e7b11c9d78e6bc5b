// Benchmark: the eni-cni plugin's exec-to-result time (spawn → exit, stdout
// read), which the runtime pays on every CNI call, apart from the agent's own
// ADD time. The agent here is the real CNI server with a handler that answers
// at once, so what remains is node's start-up, the plugin's module graph, the
// validation and one request over the unix socket.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startCniServer } from '../../src/agent/cni-server.js';
import { postToAgent } from '../cni/agent-client.js';
import { commandPath, wireRequest } from '../../src/cni/protocol.js';
import { repoPath } from '../harness/paths.js';
import { summarize, type Summary } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const PLUGIN = repoPath('dist', 'src', 'cmd', 'eni-cni.js');

const dir = mkdtempSync(join(tmpdir(), 'eni-bench-cni-'));
const socket = join(dir, 'agent', 'agent.sock');
const config = { cniVersion: '1.0.0', name: 'bench', type: 'eni-cni', agentSocket: socket };
const cniEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bench-1', CNI_NETNS: '/run/netns/bench', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench' };
const result = { interfaces: [{ name: 'eth0', sandbox: '/run/netns/bench' }], ips: [{ address: '192.0.2.10/32', gateway: '169.254.1.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }] };

function execOnce({ file, args, env, stdin, expect }: Variant): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0 || !out.includes(expect)) reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${out}`));
      else resolve(ms);
    });
    child.stdin.end(stdin);
  });
}

interface Variant {
  name: string;
  note: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdin: string;
  /** stdout must contain this (the plugin's result), so a failing run is never timed as a fast one. */
  expect: string;
}

/** Round-robin over the variants, so load from anything else on the machine falls on all of them alike. */
async function measure(variants: Variant[]): Promise<Summary[]> {
  for (const v of variants) await execOnce(v); // warm the page cache (and the compile cache, where used)
  const samples: number[][] = variants.map(() => []);
  for (let i = 0; i < RUNS; i++) for (const [j, v] of variants.entries()) samples[j]!.push(await execOnce(v));
  return samples.map((s) => round(summarize(s)));
}

function round(s: Summary): Summary {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.n, min: r(s.min), median: r(s.median), p90: r(s.p90), p99: r(s.p99), max: r(s.max) };
}

const server = await startCniServer(socket, { add: () => Promise.resolve(result), del: () => Promise.resolve(), check: () => Promise.resolve() });
try {
  // Installed as a runtime finds it: a symlink in CNI_PATH, the file's shebang picks `node` from PATH.
  chmodSync(PLUGIN, 0o755);
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  symlinkSync(PLUGIN, join(binDir, 'eni-cni'));
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, '');
  const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  const stdin = JSON.stringify(config);
  const env = { PATH: path, ...cniEnv };
  const expect = '192.0.2.10/32';
  const variants: Variant[] = [
    { name: 'node-floor', note: 'node running an empty ES module: the floor no plugin in node can beat', file: process.execPath, args: [empty], env: { PATH: path }, stdin: '', expect: '' },
    { name: 'plugin', note: 'the installed plugin (symlink + `#!/usr/bin/env node`), as a runtime execs it', file: join(binDir, 'eni-cni'), args: [], env, stdin, expect },
    { name: 'plugin-direct', note: '`node eni-cni.js`: without the /usr/bin/env hop', file: process.execPath, args: [PLUGIN], env, stdin, expect },
    { name: 'plugin+compile-cache', note: 'with NODE_COMPILE_CACHE (V8 code cache on disk, warm)', file: join(binDir, 'eni-cni'), args: [], env: { ...env, NODE_COMPILE_CACHE: join(dir, 'compile-cache') }, stdin, expect },
    { name: 'plugin+jitless', note: 'node --jitless (no JIT tiers to set up)', file: process.execPath, args: ['--jitless', PLUGIN], env, stdin, expect },
  ];
  const summaries = await measure(variants);
  const exec: Record<string, Summary & { note: string }> = {};
  variants.forEach((v, j) => (exec[v.name] = { ...summaries[j]!, note: v.note }));

  // The same request without the exec: what the socket round trip and the agent's side cost.
  const body = JSON.stringify(wireRequest(cniEnv, config));
  const inProcess: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    await postToAgent(socket, commandPath('ADD'), body, 5000);
    inProcess.push(performance.now() - t0);
  }
  const roundTrip = round(summarize(inProcess));

  const out = {
    benchmark: 'cni-exec',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    setup: { runs: RUNS, command: 'ADD', handler: 'answers at once', unit: 'ms' },
    exec,
    requestRoundTrip: { ...roundTrip, note: 'postToAgent in-process, 1000 requests: socket + HTTP + validation on both sides + the (immediate) handler' },
  };
  mkdirSync(repoPath('bench', 'results'), { recursive: true });
  writeFileSync(repoPath('bench', 'results', 'cni-exec.json'), JSON.stringify(out, null, 2) + '\n');
  const cell = (n: number) => n.toFixed(2).padStart(9);
  const row = (name: string, s: Summary) => console.log(`${name.padEnd(22)}${cell(s.min)}${cell(s.median)}${cell(s.p90)}${cell(s.p99)}${cell(s.max)}`);
  console.log(`${'variant'.padEnd(22)}${'min ms'.padStart(9)}${'p50 ms'.padStart(9)}${'p90 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`);
  for (const [name, s] of Object.entries(exec)) row(name, s);
  row('round trip (no exec)', roundTrip);
  console.log(`wrote ${repoPath('bench', 'results', 'cni-exec.json')}`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
