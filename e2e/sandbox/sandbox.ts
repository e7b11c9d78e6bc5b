// `make sandbox-up` / `make sandbox-down`: a whole cluster on this machine that
// outlives the command that started it — control plane, cloud emulator with
// its VPC fabric, N nodes with simulated kubelets and, with the eni CNI (the
// default), the operator: a controller and one agent per node, the nodes' CNI
// being eni-cni. `--cni bridge` runs the pods on the reference bridge plugin
// instead, without the operator.
//   sandbox.js up   [--dir .sandbox] [--nodes 3] [--provider alibaba] [--cni eni|bridge] [--timeout 180]
//   sandbox.js down [--dir .sandbox]
// `up` launches a detached supervisor (supervisor.ts) and returns once it has
// written <dir>/env; `down` stops it and checks that nothing is left.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROVIDERS, type ProviderType } from '../../src/api/common.js';
import { cleanupFabric, listNamespaces, pidsIn } from '../../src/cloudsim/fabric/cleanup.js';
import { ownsName } from '../../src/cloudsim/fabric/names.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { repoPath } from '../harness/paths.js';
import { portOpen } from '../harness/ports.js';
import { isAlive } from '../harness/processes.js';
import { sandboxNames } from './naming.js';
import { SANDBOX_CNIS, type SandboxCNI } from './node-cni.js';
import { kernelLeftovers, readSandboxRecords, supervisorAlive, sweepStaleSandboxes } from './registry.js';
import { readState, sandboxPaths, type SandboxState } from './state.js';
import { supervise } from './supervisor.js';
import { sandboxWorld } from './world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USAGE = 'usage: sandbox up|down [--dir .sandbox] [--nodes 3] [--provider alibaba|tencent] [--cni eni|bridge] [--timeout seconds]';

async function waitUntilDead(pids: number[], ms: number): Promise<void> {
  for (const until = Date.now() + ms; pids.some(isAlive) && Date.now() < until; ) await sleep(100);
}

/** Checks what can be checked before forking: a wrong flag fails here, with a clear message. */
function preflight(nodes: number, provider: string, cni: string): { provider: ProviderType; cni: SandboxCNI } {
  if (!(PROVIDERS as readonly string[]).includes(provider)) throw new Error(`--provider: "${provider}" is not one of ${PROVIDERS.join(', ')}`);
  if (!(SANDBOX_CNIS as readonly string[]).includes(cni)) throw new Error(`--cni: "${cni}" is not one of ${SANDBOX_CNIS.join(', ')}`);
  sandboxWorld(loadWorldSpec(repoPath('config/cloudsim/world.yaml')), provider as ProviderType, nodes);
  if (process.getuid?.() !== 0) throw new Error('the sandbox needs root: its nodes are network namespaces');
  return { provider: provider as ProviderType, cni: cni as SandboxCNI };
}

/** This folder's sandbox: from its state file or, when the folder was deleted under a running sandbox, from the registry. */
function findSandbox(dir: string): SandboxState | undefined {
  const state = readState(dir);
  if (state) return state;
  const record = readSandboxRecords().find((r) => r.dir === dir && supervisorAlive(r));
  return record && { supervisorPid: record.supervisorPid, fabricPrefix: record.fabricPrefix, ports: [], pids: [] };
}

async function up(dir: string, nodes: number, providerFlag: string, cniFlag: string, timeoutMs: number): Promise<number> {
  let provider: ProviderType, cni: SandboxCNI;
  try {
    ({ provider, cni } = preflight(nodes, providerFlag, cniFlag));
  } catch (err) {
    console.error(`sandbox up: ${(err as Error).message}`);
    return 2;
  }
  const p = sandboxPaths(dir);
  const existing = findSandbox(dir);
  if (existing && isAlive(existing.supervisorPid) && existsSync(p.env)) {
    console.log(`sandbox already up (supervisor pid ${existing.supervisorPid}); \`sandbox down\` first to change it\n${readFileSync(p.env, 'utf8')}`);
    return 0;
  }
  if (existing && isAlive(existing.supervisorPid)) {
    process.kill(existing.supervisorPid, 'SIGKILL'); // a start that never finished
    await waitUntilDead([existing.supervisorPid], 5000);
  }
  const swept = await sweepStaleSandboxes();
  for (const s of swept) {
    const what = `${s.namespaces.length} network namespaces, ${s.killed.length} processes in them`;
    console.log(s.dir === dir ? `removed a stale sandbox at ${dir} (${what})` : `removed what a crashed sandbox at ${s.dir} left (${what})`);
  }
  if (existsSync(dir)) {
    await cleanupFabric(sandboxNames(dir).fabricPrefix);
    rmSync(dir, { recursive: true, force: true });
    if (!swept.some((s) => s.dir === dir)) console.log(`removed a stale sandbox at ${dir}`);
  }
  mkdirSync(dir, { recursive: true });
  const began = Date.now();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'supervise', '--dir', dir, '--nodes', String(nodes), '--provider', provider, '--cni', cni], {
    detached: true,
    stdio: ['ignore', openSync(p.log, 'a'), openSync(p.log, 'a')],
  });
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  while (!existsSync(p.env)) {
    if (exited || Date.now() - began > timeoutMs) {
      if (!exited) child.kill('SIGTERM');
      const logText = existsSync(p.log) ? readFileSync(p.log, 'utf8') : '';
      console.error(`sandbox failed to come up${exited ? '' : ` within ${timeoutMs} ms`}:\n${logText.trimEnd().split('\n').slice(-40).join('\n')}`);
      return 1;
    }
    await sleep(100);
  }
  console.log(`sandbox up in ${Date.now() - began} ms (${nodes} ${provider} node${nodes === 1 ? '' : 's'}, ${cni} CNI); environment in ${p.env}:\n${readFileSync(p.env, 'utf8')}`);
  console.log(`try: source ${p.env} && kubectl get nodes -o wide`);
  if (cni === 'eni') console.log(`then: kubectl apply -f ${p.networkMode} && kubectl get enipools`);
  return 0;
}

async function down(dir: string): Promise<number> {
  const state = findSandbox(dir);
  if (!state) {
    await sweepStaleSandboxes();
    rmSync(dir, { recursive: true, force: true });
    console.log('no sandbox is up');
    return 0;
  }
  const prefix = state.fabricPrefix;
  const namespaces = listNamespaces().filter((n) => ownsName(prefix, n));
  // Pods' and anything else running in the sandbox's namespaces: they must go too.
  const inside = pidsIn(namespaces);
  if (isAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    await waitUntilDead([state.supervisorPid], 60_000);
    if (isAlive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
  }
  // The supervisor's children die with it (pdeathsig); wait for that, then sweep what a SIGKILL left.
  await waitUntilDead([...state.pids, ...inside], 15_000);
  await sweepStaleSandboxes();
  await cleanupFabric(prefix);
  rmSync(dir, { recursive: true, force: true });

  const alive = [state.supervisorPid, ...state.pids, ...inside].filter(isAlive);
  const open: number[] = [];
  for (const port of state.ports) if (await portOpen(port)) open.push(port);
  const left = await kernelLeftovers(prefix);
  const problems = [
    alive.length ? `processes ${alive.join(', ')}` : '',
    open.length ? `ports ${open.join(', ')}` : '',
    left.namespaces.length ? `network namespaces ${left.namespaces.join(', ')}` : '',
    left.links.length ? `links ${left.links.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(`sandbox down, but these remain: ${problems.join('; ')}`);
    return 1;
  }
  console.log(
    `sandbox down: ${state.pids.length + 1} processes stopped (and ${inside.length} in its namespaces), ` +
      `${namespaces.length} network namespaces removed, ports ${state.ports.join(', ') || 'none'} closed; nothing left`,
  );
  return 0;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: 'string', default: '.sandbox' },
        nodes: { type: 'string', default: '3' },
        provider: { type: 'string', default: 'alibaba' },
        cni: { type: 'string', default: 'eni' },
        timeout: { type: 'string', default: '180' },
      },
    });
  } catch (err) {
    console.error(`sandbox: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const dir = resolve(values.dir);
  const nodes = Number(values.nodes);
  switch (positionals[0]) {
    case 'up':
      return up(dir, nodes, values.provider, values.cni, Number(values.timeout) * 1000);
    case 'down':
      return down(dir);
    case 'supervise':
      await supervise({ dir, nodes, provider: values.provider as ProviderType, cni: values.cni as SandboxCNI });
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

const code = await main();
if (code !== 0) process.exit(code);
