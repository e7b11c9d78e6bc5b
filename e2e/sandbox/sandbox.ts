// `make sandbox-up` / `make sandbox-down`: a control plane that outlives the
// command that started it. `up` launches a detached supervisor that owns every
// sandbox process (they die with it) and writes .sandbox/env when all is
// ready; `down` stops the supervisor and checks that nothing is left.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { freePorts, portOpen } from '../harness/ports.js';
import { ProcessGroup, cleanupStaleInstances, isAlive } from '../harness/processes.js';

interface SandboxState {
  supervisorPid: number;
  ports: number[];
  pids: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function paths(dir: string) {
  return {
    dir,
    state: join(dir, 'state.json'),
    env: join(dir, 'env'),
    log: join(dir, 'supervisor.log'),
    kubeconfig: join(dir, 'kubeconfig'),
  };
}

function readState(dir: string): SandboxState | undefined {
  const file = paths(dir).state;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

/** The cloud emulator (`eni-operator cloudsim`) with the default world, as a supervised child. */
async function startCloudsim(dir: string, id: string): Promise<{ group: ProcessGroup; url: string; port: number }> {
  const [port] = (await freePorts(1)) as [number];
  const group = new ProcessGroup(`${id}-cloudsim`, dir, false, false);
  const log = join(dir, 'cloudsim.log');
  group.start('cloudsim', process.execPath, [repoPath('dist/src/cmd/eni-operator.js'), 'cloudsim', '--listen', `127.0.0.1:${port}`, '--world', repoPath('config/cloudsim/world.yaml')], log);
  let exited = false;
  void group.exited('cloudsim').then(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 30_000; ; await sleep(50)) {
    if (exited || Date.now() > until) throw new Error(`cloud emulator did not start:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
    if (await fetch(`${url}/_admin/healthz`).then((r) => r.ok, () => false)) return { group, url, port };
  }
}

/** The supervisor: runs the control plane and the cloud emulator until SIGTERM/SIGINT, then removes the sandbox. */
async function supervise(dir: string): Promise<void> {
  const p = paths(dir);
  const id = `sandbox-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}`;
  const cp = await ControlPlane.start({ dir: join(dir, 'cp'), id, removeDir: false, handleSignals: false });
  const cloud = await startCloudsim(dir, id);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await cloud.group.stop();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  const { info } = cp;
  copyFileSync(info.kubeconfigs.admin, p.kubeconfig);
  const state: SandboxState = {
    supervisorPid: process.pid,
    ports: [info.ports.apiserver, info.ports.etcdClient, info.ports.etcdPeer, cloud.port],
    pids: [...info.pids, ...cloud.group.pids()],
  };
  writeFileSync(p.state, JSON.stringify(state, null, 2));
  const env = {
    KUBECONFIG: resolve(p.kubeconfig),
    ENI_SANDBOX_APISERVER: info.apiserverURL,
    ENI_SANDBOX_ETCD: info.etcdURL,
    // Alibaba and Tencent SDKs reach it by endpoint override; /_admin/ has the world, faults, stats.
    ENI_SANDBOX_CLOUDSIM: cloud.url,
    ENI_SANDBOX_KUBECONFIG_CONTROLLER: resolve(info.kubeconfigs.controller),
    ENI_SANDBOX_KUBECONFIG_AGENT: resolve(info.kubeconfigs.agent),
    ENI_SANDBOX_SUPERVISOR_PID: String(process.pid),
    ENI_SANDBOX_READY_MS: String(info.startToReadyMs),
  };
  // Written last: its presence tells `up` that the sandbox is ready.
  writeFileSync(p.env + '.tmp', Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  copyFileSync(p.env + '.tmp', p.env);
  rmSync(p.env + '.tmp');
  console.log(`sandbox ready: ${info.apiserverURL}`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

async function up(dir: string, timeoutMs: number): Promise<number> {
  const p = paths(dir);
  const existing = readState(dir);
  if (existing && isAlive(existing.supervisorPid) && existsSync(p.env)) {
    console.log(`sandbox already up (supervisor pid ${existing.supervisorPid})\n${readFileSync(p.env, 'utf8')}`);
    return 0;
  }
  if (existing && isAlive(existing.supervisorPid)) process.kill(existing.supervisorPid, 'SIGKILL'); // half-started
  const cleaned = cleanupStaleInstances();
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`removed a stale sandbox at ${dir}${cleaned.length ? ` (stopped ${cleaned.join(', ')})` : ''}`);
  }
  mkdirSync(dir, { recursive: true });
  const log = openSync(p.log, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'supervise', '--dir', dir], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const until = Date.now() + timeoutMs;
  while (!existsSync(p.env)) {
    if (exited || Date.now() > until) {
      if (!exited) child.kill('SIGTERM');
      const logText = existsSync(p.log) ? readFileSync(p.log, 'utf8') : '';
      console.error(`sandbox failed to come up${exited ? '' : ` within ${timeoutMs} ms`}:\n${logText.split('\n').slice(-40).join('\n')}`);
      return 1;
    }
    await sleep(100);
  }
  console.log(`sandbox up; environment in ${p.env}:\n${readFileSync(p.env, 'utf8')}`);
  console.log(`try: kubectl --kubeconfig ${p.kubeconfig} get networkmodes`);
  return 0;
}

async function down(dir: string): Promise<number> {
  const state = readState(dir);
  if (!state) {
    cleanupStaleInstances();
    rmSync(dir, { recursive: true, force: true });
    console.log('no sandbox is up');
    return 0;
  }
  if (isAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const until = Date.now() + 30_000;
    while (isAlive(state.supervisorPid) && Date.now() < until) await sleep(100);
    if (isAlive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
  }
  // The supervisor's children die with it (pdeathsig); wait for that, then sweep.
  const until = Date.now() + 15_000;
  while (state.pids.some(isAlive) && Date.now() < until) await sleep(100);
  cleanupStaleInstances();
  rmSync(dir, { recursive: true, force: true });
  const alive = state.pids.filter(isAlive);
  const open = [];
  for (const port of state.ports) if (await portOpen(port)) open.push(port);
  if (alive.length > 0 || open.length > 0) {
    console.error(`sandbox down, but processes ${alive.join(',') || 'none'} and ports ${open.join(',') || 'none'} remain`);
    return 1;
  }
  console.log(`sandbox down: ${state.pids.length + 1} processes stopped, ports ${state.ports.join(', ')} closed`);
  return 0;
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string', default: '.sandbox' }, timeout: { type: 'string', default: '180' } },
  });
  const dir = resolve(values.dir);
  switch (positionals[0]) {
    case 'up':
      return up(dir, Number(values.timeout) * 1000);
    case 'down':
      return down(dir);
    case 'supervise':
      await supervise(dir);
      return 0;
    default:
      console.error('usage: sandbox up|down [--dir .sandbox] [--timeout seconds]');
      return 2;
  }
}

const code = await main();
if (code !== 0) process.exit(code);
