// Times agent-side ADD and DEL the way the agent runs them: this process sits in
// the node namespace (started with `ip netns exec <node>`) and uses the default
// node target, so the helper's node requests need no setns.
//
// Usage: node dist/e2e/datapath/latency-run.js '<json Config>'  → prints a JSON Report.
import type { Attachment } from '../../src/api/nodenetwork.js';
import { Datapath, processesSpawned } from '../../src/agent/datapath/index.js';

export interface Config {
  mode: 'veth' | 'exclusive';
  eni: { id: string; mac: string; gateway: string; prefix: number };
  /** One fresh pod namespace path and address per run. */
  pods: { netns: string; ip: string }[];
}

export interface Report {
  applyMs: number[];
  removeMs: number[];
  /** Processes started per ADD / DEL (the same for every run, else the max). */
  spawnsPerApply: number;
  spawnsPerRemove: number;
  /** CHECK problems after the first ADD (must be none). */
  firstCheck: string[];
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as Config;
  const dp = new Datapath();
  const report: Report = { applyMs: [], removeMs: [], spawnsPerApply: 0, spawnsPerRemove: 0, firstCheck: [] };
  for (const [i, pod] of config.pods.entries()) {
    const podUID = `latency-${config.mode}-${i}`;
    const att: Attachment = { podUID, namespace: 'bench', name: podUID, mode: config.mode, ip: `${pod.ip}/${config.eni.prefix}`, gateway: config.eni.gateway, eniID: config.eni.id, mac: config.eni.mac };
    const sandbox = { netns: pod.netns, ifName: 'eth0', containerID: `c-${i}` };
    let spawned = processesSpawned();
    let t = performance.now();
    await dp.apply(att, sandbox);
    report.applyMs.push(performance.now() - t);
    report.spawnsPerApply = Math.max(report.spawnsPerApply, processesSpawned() - spawned);
    if (i === 0) report.firstCheck = await dp.check(att, sandbox);
    spawned = processesSpawned();
    t = performance.now();
    await dp.remove({ podUID, netns: pod.netns, ifName: 'eth0', containerID: `c-${i}` }, att);
    report.removeMs.push(performance.now() - t);
    report.spawnsPerRemove = Math.max(report.spawnsPerRemove, processesSpawned() - spawned);
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
