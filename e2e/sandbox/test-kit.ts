// What the sandbox tests share: running the `sandbox` command, probing from a
// namespace, and taking stock of everything a sandbox must leave behind on
// `down` (processes, ports, kernel names, registry entry, folder).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { listNamespaces, pidsIn } from '../../src/cloudsim/fabric/cleanup.js';
import { ownsName } from '../../src/cloudsim/fabric/names.js';
import type { ProbeResult } from '../kubelet/echo-client.js';
import { repoPath } from '../harness/paths.js';
import { portOpen } from '../harness/ports.js';
import { isAlive } from '../harness/processes.js';
import { kernelLeftovers, readSandboxRecords } from './registry.js';
import { readState, type SandboxState } from './state.js';

export const exec = promisify(execFile);

/** `node dist/e2e/sandbox/sandbox.js ARGS`; resolves with its stdout, rejects when it exits non-zero. */
export async function sandbox(...args: string[]): Promise<string> {
  return (await exec(process.execPath, [repoPath('dist/e2e/sandbox/sandbox.js'), ...args])).stdout;
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = await Promise.resolve().then(probe).catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
  }
}

export const namespacesOf = (prefix: string) => listNamespaces().filter((n) => ownsName(prefix, n));

/** The pod's network namespace, as the sandbox's kubelets name it. */
export function podNetns(podNetnsPrefix: string, uid: string): string {
  return `${podNetnsPrefix}-${uid.replace(/-/g, '').slice(0, 12)}`;
}

/** Runs the echo client inside a network namespace (TCP, and UDP when asked). */
export async function probe(netns: string, targets: string[], udp = false): Promise<ProbeResult[]> {
  const list = targets.join(',');
  const args = ['netns', 'exec', netns, process.execPath, repoPath('dist/e2e/kubelet/echo-client.js'), '--tcp', list, ...(udp ? ['--udp', list] : []), '--timeout-ms', '3000'];
  const out = await exec('ip', args).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
  return JSON.parse(out.stdout) as ProbeResult[];
}

/** Failed probes, readable: [] when every one answered. */
export const failures = (results: ProbeResult[]) => results.filter((r) => !r.ok).map((r) => `${r.proto} ${r.target}: ${r.error ?? 'failed'}`);

export interface Footprint {
  state: SandboxState;
  /** The supervisor, its children and whatever ran in the sandbox's namespaces. */
  pids: number[];
}

export function footprint(dir: string): Footprint {
  const state = readState(dir);
  if (!state) throw new Error(`${dir}: no sandbox state`);
  return { state, pids: [state.supervisorPid, ...state.pids, ...pidsIn(namespacesOf(state.fabricPrefix))] };
}

export const NOTHING_LEFT = { alive: [], openPorts: [], namespaces: [], links: [], registered: false, folder: false };

/** What of `fp` is still there; equal to NOTHING_LEFT once the sandbox is gone without a trace. */
export async function leftovers(dir: string, { state, pids }: Footprint): Promise<typeof NOTHING_LEFT | Record<string, unknown>> {
  const openPorts: number[] = [];
  for (const port of state.ports) if (await portOpen(port)) openPorts.push(port);
  const { namespaces, links } = await kernelLeftovers(state.fabricPrefix);
  return {
    alive: pids.filter(isAlive),
    openPorts,
    namespaces,
    links,
    registered: readSandboxRecords().some((r) => r.dir === dir),
    folder: existsSync(dir),
  };
}
