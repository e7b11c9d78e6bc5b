// Benchmark: the cloud emulator's throughput and latency as the production
// providers see it (emulator in its own process, 32 concurrent callers), and
// the provider layer's own overhead per call (CloudCaller on a no-op).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import type { ProviderType } from '../../src/api/common.js';
import { CloudCaller } from '../../src/cloud/caller.js';
import { Credentials } from '../../src/cloud/credentials.js';
import { CloudError } from '../../src/cloud/errors.js';
import { createProvider } from '../../src/cloud/factory.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { repoPath } from '../harness/paths.js';
import { summarize, type Summary } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WORKERS = 32;

async function startEmulator(): Promise<{ host: string; stop(): void }> {
  const child = spawn(process.execPath, [repoPath('dist/src/cmd/eni-operator.js'), 'cloudsim', '--listen', '127.0.0.1:0', '--world', repoPath('config/cloudsim/world.yaml')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`cloudsim exited (${code})`)));
  });
  const m = /listening on http:\/\/(\S+)/.exec(line);
  if (!m) throw new Error(`unexpected cloudsim output: ${line}`);
  return { host: m[1]!, stop: () => child.kill('SIGTERM') };
}

async function throughput(type: ProviderType, host: string, region: string, instanceId: string): Promise<{ callsPerSecond: number; latencyMs: Summary }> {
  const spec = loadWorldSpec(repoPath('config/cloudsim/world.yaml'));
  const cred = spec.credentials.find((c) => c.provider === type)!;
  const cloud = await createProvider(type, {
    region,
    credentials: new Credentials(cred.accessKeyId, cred.accessKeySecret),
    endpoint: { host, insecure: true },
    rateLimit: { qps: 100_000, burst: 100_000 },
  });
  const [primary] = await cloud.listENIs({ instanceId });
  const latencies: number[] = [];
  const until = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        await cloud.listENIs({ ids: [primary!.id] });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  return { callsPerSecond: Math.round(latencies.length / elapsed), latencyMs: summarize(latencies.map((l) => Math.round(l * 100) / 100)) };
}

async function callerOverhead(): Promise<{ nsPerCall: Summary }> {
  const caller = new CloudCaller({
    provider: 'alibaba',
    qps: 1e9,
    burst: 1e9,
    secrets: ['x'.repeat(16)],
    classify: (err, api) => new CloudError('Unknown', 'alibaba', api, 'Unknown', String(err)),
  });
  const noop = () => Promise.resolve(1);
  const rounds: number[] = [];
  for (let r = 0; r < 15; r++) {
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await caller.call('DescribeNetworkInterfaces', noop);
    rounds.push(Math.round(Number(process.hrtime.bigint() - t0) / n));
  }
  return { nsPerCall: summarize(rounds) };
}

const emulator = await startEmulator();
try {
  const alibaba = await throughput('alibaba', emulator.host, 'cn-hangzhou', 'i-bp1simnode000000001');
  const tencent = await throughput('tencent', emulator.host, 'ap-guangzhou', 'ins-simnode1');
  const overhead = await callerOverhead();
  const result = {
    benchmark: 'cloud-throughput',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    setup: { seconds: SECONDS, concurrentCallers: WORKERS, call: 'DescribeNetworkInterfaces by ID through the production provider (SDK + signing + CloudCaller)' },
    alibaba,
    tencent,
    callerOverhead: { ...overhead, note: 'per call through CloudCaller (token bucket + classification + metrics hooks) on a no-op; 15 rounds of 20k calls' },
  };
  mkdirSync(repoPath('bench', 'results'), { recursive: true });
  writeFileSync(repoPath('bench', 'results', 'cloud-throughput.json'), JSON.stringify(result, null, 2) + '\n');
  const row = (name: string, r: { callsPerSecond: number; latencyMs: Summary }) =>
    `${name.padEnd(10)} ${String(r.callsPerSecond).padStart(8)} ${[r.latencyMs.median, r.latencyMs.p99].map((v) => v.toFixed(2).padStart(9)).join('')}`;
  console.log(`${'provider'.padEnd(10)} ${'calls/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`);
  console.log(row('alibaba', alibaba));
  console.log(row('tencent', tencent));
  console.log(`CloudCaller overhead: median ${overhead.nsPerCall.median} ns/call, p99 ${overhead.nsPerCall.p99} ns/call`);
  console.log(`wrote ${repoPath('bench', 'results', 'cloud-throughput.json')}`);
} finally {
  emulator.stop();
}
