// Benchmark: launching the control plane until the API server's /readyz answers,
// until the whole plane works (controller-manager and scheduler healthy, the
// `default` ServiceAccount made), and until that plus the CRDs are Established.
// BENCH_RUNS sets the number of cold starts.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { summarize } from './stats.js';

const runs = Number(process.env.BENCH_RUNS ?? 15);
const ready: number[] = [];
const fullPlane: number[] = [];
const established: number[] = [];
for (let i = 0; i < runs; i++) {
  const began = Date.now();
  const cp = await ControlPlane.start({ dir: mkdtempSync(join(tmpdir(), 'eni-bench-')), id: `bench-${process.pid}-${i}`, removeDir: true });
  established.push(Date.now() - began);
  ready.push(cp.info.startToReadyMs);
  fullPlane.push(cp.info.startToFullPlaneMs);
  await cp.stop();
}
const result = {
  benchmark: 'control-plane-start',
  unit: 'ms',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  launchToReadyz: summarize(ready),
  launchToFullPlane: summarize(fullPlane),
  launchToCRDsEstablished: summarize(established),
  samples: { launchToReadyz: ready, launchToFullPlane: fullPlane, launchToCRDsEstablished: established },
};
const out = repoPath('bench', 'results', 'control-plane-start.json');
mkdirSync(repoPath('bench', 'results'), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
const row = (name: string, s: ReturnType<typeof summarize>) =>
  `${name.padEnd(28)} ${String(s.n).padStart(4)} ${[s.min, s.median, s.p90, s.p99, s.max].map((v) => String(v).padStart(7)).join('')}`;
console.log(`${'control plane start (ms)'.padEnd(28)} ${'n'.padStart(4)}${['min', 'median', 'p90', 'p99', 'max'].map((h) => h.padStart(7)).join('')}`);
console.log(row('launch -> /readyz', result.launchToReadyz));
console.log(row('launch -> full plane', result.launchToFullPlane));
console.log(row('launch -> full + CRDs', result.launchToCRDsEstablished));
console.log(`wrote ${out}`);
