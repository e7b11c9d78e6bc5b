// Runs the kernel tools the fabric drives: iproute2 (ip, bridge), nft,
// nsenter (to run nft and sysctl inside the router) and sysctl.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tools {
  ip: string;
  bridge: string;
  nft: string;
  nsenter: string;
  sysctl: string;
}

const PACKAGES: Record<keyof Tools, string> = { ip: 'iproute2', bridge: 'iproute2', nft: 'nftables', nsenter: 'util-linux', sysctl: 'procps' };

let cached: Tools | undefined;

/** Finds each tool on PATH or in the sbin folders (root's PATH may lack them); throws naming the missing packages. */
export function findTools(): Tools {
  if (cached) return cached;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  const found: Partial<Tools> = {};
  const missing: string[] = [];
  for (const name of Object.keys(PACKAGES) as (keyof Tools)[]) {
    const path = dirs.map((d) => join(d, name)).find(isExecutable);
    if (path) found[name] = path;
    else missing.push(`${name} (Debian package ${PACKAGES[name]})`);
  }
  if (missing.length > 0) throw new Error(`fabric: missing tools: ${missing.join(', ')}`);
  return (cached = found as Tools);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion, feeding `input` on stdin. Never rejects for a non-zero exit. */
export function runTool(file: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A tool that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Like runTool, but a non-zero exit is an error that shows the command, its input and what it said. */
export async function mustRun(file: string, args: string[], input?: string): Promise<string> {
  const r = await runTool(file, args, input);
  if (r.code !== 0) {
    const shown = input === undefined ? '' : `\n--- input ---\n${input.length > 4000 ? `${input.slice(0, 4000)}...` : input}`;
    throw new Error(`${[file, ...args].join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}${shown}`);
  }
  return r.stdout;
}
