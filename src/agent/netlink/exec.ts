// Runs a short-lived helper process (ip, nsenter, sysctl) with optional stdin
// and collects its output. One place, so the spawn count per CNI call is easy
// to audit and measure.
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An `ip` stuck behind the kernel's rtnl lock must not hang a CNI call for ever. */
const TIMEOUT_MS = 30_000;

let spawnCount = 0;

/** Processes started by this module since load; benchmarks and tests read it. */
export function processesSpawned(): number {
  return spawnCount;
}

export function execute(file: string, args: readonly string[], input?: string): Promise<ExecResult> {
  spawnCount++;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error })));
    child.once('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: signal ? `${stderr}${file} killed by ${signal} (timeout ${TIMEOUT_MS} ms?)\n` : stderr,
      });
    });
    // A child that exits before reading stdin would otherwise raise EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
