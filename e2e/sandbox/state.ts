// The files of a sandbox folder, and state.json: what `down` needs to stop
// the sandbox and to check that nothing is left.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxInfo } from './info.js';

export interface SandboxState {
  supervisorPid: number;
  fabricPrefix: string;
  /** Ports of the control plane and the emulator (empty until ready). */
  ports: number[];
  /** The supervisor's children (empty until ready). */
  pids: number[];
}

export function sandboxPaths(dir: string) {
  return {
    dir,
    state: join(dir, 'state.json'),
    /** sandbox.json: every endpoint, for programs (the env file has the same for shells). */
    info: join(dir, 'sandbox.json'),
    env: join(dir, 'env'),
    log: join(dir, 'supervisor.log'),
    kubeconfig: join(dir, 'kubeconfig'),
    world: join(dir, 'world.yaml'),
    /** The ready-to-apply NetworkMode (eni CNI only). */
    networkMode: join(dir, 'networkmode.yaml'),
  };
}

/** A node's folder: its CNI configuration, kubelet state and log, and its agent's socket, state and log. */
export function nodePaths(dir: string, node: string) {
  const home = join(dir, 'nodes', node);
  return { home, agentSocket: join(home, 'agent.sock') };
}

export function readState(dir: string): SandboxState | undefined {
  const file = sandboxPaths(dir).state;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

export function writeState(dir: string, state: SandboxState): void {
  const file = sandboxPaths(dir).state;
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function readInfo(dir: string): SandboxInfo {
  return JSON.parse(readFileSync(sandboxPaths(dir).info, 'utf8')) as SandboxInfo;
}
