// Agent-side ADD/DEL latency over ~100 pods per datapath, measured inside the
// node namespace by the compiled latency-run.js (build first: `make build`).
// Asserted: no call starts a process (all kernel work is netlink requests to
// the eni-exec helper) and every run worked; the times are printed for the
// report, with only a loose ceiling so a busy CI machine does not flake.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { summarize } from '../bench/stats.js';
import { repoPath } from '../harness/paths.js';
import type { Config, Report } from './latency-run.js';
import { Topology, ourNetns, type Eni } from './topology.js';

const run = promisify(execFile);
const RUNS = 100;

const SCRIPT = repoPath('dist', 'e2e', 'datapath', 'latency-run.js');

/** The child runs compiled code: refuse to time a build older than the sources. */
function assertFreshBuild(): void {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: compile first (make build)`);
  const built = statSync(SCRIPT).mtimeMs;
  for (const dir of ['src/agent/datapath', 'src/agent/netlink', 'e2e/datapath']) {
    for (const f of readdirSync(repoPath(dir))) {
      if (f.endsWith('.ts') && statSync(join(repoPath(dir), f)).mtimeMs > built) throw new Error(`${dir}/${f} is newer than ${SCRIPT}: compile first (make build)`);
    }
  }
}

let topo: Topology;
beforeAll(async () => {
  assertFreshBuild();
  topo = await Topology.create();
});
afterAll(async () => {
  const prefix = topo.prefix;
  await topo.teardown();
  expect(ourNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
});

async function measure(mode: Config['mode'], eni: Eni, subnet: string): Promise<Report> {
  const pods: Config['pods'] = [];
  for (let i = 0; i < RUNS; i++) {
    const pod = await topo.addPod(`${mode}${i}`);
    const ip = `${subnet}.${10 + i}`;
    await topo.assign(eni, ip);
    pods.push({ netns: pod.path, ip });
  }
  const config: Config = { mode, eni: { id: eni.id, mac: eni.mac, gateway: eni.gateway, prefix: eni.subnetPrefix }, pods };
  const { stdout } = await run('ip', ['netns', 'exec', topo.nodeName, process.execPath, SCRIPT, JSON.stringify(config)], { maxBuffer: 1 << 20 });
  const report = JSON.parse(stdout) as Report;
  const fmt = (xs: number[]): string => {
    const s = summarize(xs);
    return `p50 ${s.median.toFixed(1)} ms  p90 ${s.p90.toFixed(1)}  p99 ${s.p99.toFixed(1)}  max ${s.max.toFixed(1)}`;
  };
  console.log(`${mode} x${RUNS}: ADD ${fmt(report.applyMs)} (${report.spawnsPerApply} processes)\n${mode} x${RUNS}: DEL ${fmt(report.removeMs)} (${report.spawnsPerRemove} processes)`);
  for (const p of pods) await topo.deletePod(p.netns.split('/').pop()!);
  return report;
}

test('veth: ADD and DEL start no process, over 100 pods', async () => {
  const [eni1] = topo.enis as [Eni];
  const r = await measure('veth', eni1, '10.0.17');
  expect(r.firstCheck).toEqual([]);
  expect(r.applyMs).toHaveLength(RUNS);
  expect(r.spawnsPerApply).toBe(0);
  expect(r.spawnsPerRemove).toBe(0);
  expect(summarize(r.applyMs).median).toBeLessThan(200);
}, 180_000);

test('exclusive: ADD and DEL start no process, the same ENI moving in and out 100 times', async () => {
  const [, eni2] = topo.enis as [Eni, Eni];
  const r = await measure('exclusive', eni2, '10.0.33');
  expect(r.firstCheck).toEqual([]);
  expect(r.removeMs).toHaveLength(RUNS);
  expect(r.spawnsPerApply).toBe(0);
  expect(r.spawnsPerRemove).toBe(0);
  expect(summarize(r.applyMs).median).toBeLessThan(200);
}, 180_000);
