// Nothing the harness starts may outlive its owner, not even after SIGKILL.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneInfo } from './control-plane.js';
import { repoPath } from './paths.js';
import { portOpen } from './ports.js';
import { cleanupStaleInstances, isAlive } from './processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

async function openPorts(ports: number[]): Promise<number[]> {
  const open = [];
  for (const p of ports) if (await portOpen(p)) open.push(p);
  return open;
}

/** Starts the owner fixture: a process holding a control plane it never stops. */
async function startOwner(id: string) {
  const dir = join(mkdtempSync(join(tmpdir(), 'eni-owner-')), 'cp');
  const owner = spawn(process.execPath, [repoPath('dist/e2e/harness/fixtures/owner.js'), dir, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    owner.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    owner.once('exit', (code) => reject(new Error(`owner exited early (${code})`)));
  });
  const info = JSON.parse(line) as ControlPlaneInfo;
  const { apiserver, etcdClient, controllerManager, scheduler } = info.ports;
  return { owner, dir, info, ports: [apiserver, etcdClient, controllerManager, scheduler] };
}

test('a control plane dies with an owner killed by SIGKILL, and the next start sweeps its folder', async () => {
  const id = `owner-kill-${process.pid}`;
  const { owner, dir, info, ports } = await startOwner(id);
  expect(info.pids).toHaveLength(4); // etcd, kube-apiserver, kube-controller-manager, kube-scheduler
  expect(info.pids.every(isAlive)).toBe(true);
  expect(await openPorts(ports)).toEqual(ports);

  owner.kill('SIGKILL');
  await eventually('the control plane to die with its owner', () => !info.pids.some(isAlive));
  await eventually('ports to close', async () => (await openPorts(ports)).length === 0);
  expect(existsSync(dir)).toBe(true); // the owner had no chance to clean up...

  expect(cleanupStaleInstances()).toContain(id); // ...so the next start does
  expect(existsSync(dir)).toBe(false);
}, 60_000);

test('an owner stopped by SIGTERM takes its control plane with it', async () => {
  const id = `owner-term-${process.pid}`;
  const { owner, dir, info, ports } = await startOwner(id);
  const exited = new Promise((resolve) => owner.once('exit', (_code, signal) => resolve(signal)));
  owner.kill('SIGTERM');
  await expect(exited).resolves.toBe('SIGTERM'); // the signal still ends the owner
  await eventually('children to die', () => !info.pids.some(isAlive));
  expect(await openPorts(ports)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  expect(cleanupStaleInstances()).not.toContain(id); // nothing left to sweep
}, 60_000);

// `sandbox up` / `down`, with their nodes and crash recovery: e2e/sandbox/sandbox.test.ts.
