// The eni-exec helper's lifecycle, and short-lived commands (the start-up
// probe's `unshare`, tests' tools) with optional stdin, optionally inside a
// network namespace. One place, so the process count is easy to audit: the
// datapath itself starts none (its netlink work goes to the helper, kernel.ts).
//
// Commands go through the eni-exec helper (native/eni-exec, built to
// dist/bin/eni-exec by `make build`) when it is there: forking this large
// process costs milliseconds of blocked event loop per spawn, the helper's
// fork well under one. Without it they are spawned directly (namespaces
// through nsenter): the same results, slower. ENI_EXEC_HELPER=<path> names
// another helper binary; ENI_EXEC_HELPER=off always spawns commands directly
// (and leaves netlink work without its only executor).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ExecHelper, HelperStartError } from './exec-helper.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** nsfs path of the network namespace to run in (/run/netns/<name>, a runtime's CNI_NETNS); default ours. */
  netns?: string;
  /** SIGKILL the command after this long (default 30 s); it then reports code 137. */
  timeoutMs?: number;
}

/** An `ip` stuck behind the kernel's rtnl lock must not hang a CNI call for ever. */
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Where `make build` puts the helper, seen from this module: compiled, it is
 * dist/src/agent/netlink/exec.js next to dist/bin/; run from source (jest),
 * src/agent/netlink/exec.ts below the repository root.
 */
const HELPER_CANDIDATES = ['../../../bin/eni-exec', '../../../dist/bin/eni-exec'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));

let spawnCount = 0;
let helper: ExecHelper | undefined;
/** Set when a helper binary could not be started: this process spawns directly from then on. */
let helperBroken: string | undefined;

/** Commands run by this module since load, by either path; benchmarks and tests read it. */
export function processesSpawned(): number {
  return spawnCount;
}

/** The helper binary to use, or undefined to spawn directly. Looked up whenever no helper runs, so a later build is picked up. */
function helperPath(): string | undefined {
  const configured = process.env.ENI_EXEC_HELPER;
  if (configured === 'off' || helperBroken !== undefined) return undefined;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`ENI_EXEC_HELPER=${configured}: no such file (build it with \`make build\`, or set ENI_EXEC_HELPER=off to spawn directly)`);
    return configured;
  }
  return HELPER_CANDIDATES.find((p) => existsSync(p));
}

/** How the next command will run: through the eni-exec helper, or by spawning it from this process. Throws if ENI_EXEC_HELPER names a missing file. */
export function execMode(): 'helper' | 'spawn' {
  if (process.env.ENI_EXEC_HELPER === 'off') return 'spawn';
  return helper !== undefined || helperPath() !== undefined ? 'helper' : 'spawn';
}

function runningHelper(): ExecHelper | undefined {
  if (process.env.ENI_EXEC_HELPER === 'off') return undefined;
  if (helper) return helper;
  const path = helperPath();
  if (path === undefined) return undefined;
  const started = new ExecHelper(path, (gone, startError) => {
    if (helper === gone) helper = undefined;
    if (startError) helperBroken = `${path}: ${startError.message}`;
  });
  helper = started;
  return started;
}

/**
 * The helper for netlink work, started if need be. Netlink has no fallback:
 * without the helper the datapath cannot work, and says so.
 */
export function netlinkHelper(): ExecHelper {
  if (process.env.ENI_EXEC_HELPER === 'off') throw new Error('ENI_EXEC_HELPER=off, but the datapath writes and reads the kernel through the eni-exec helper; only commands can run without it');
  const h = runningHelper();
  if (h) return h;
  const why = helperBroken !== undefined ? `could not be started (${helperBroken})` : `is missing (looked for ${HELPER_CANDIDATES.join(' and ')})`;
  throw new Error(`the eni-exec helper ${why}: the datapath writes and reads the kernel through it; build it with \`make build\``);
}

/** The running helper's pid, if one runs (tests kill it). */
export function execHelperPid(): number | undefined {
  return helper?.pid;
}

/** Lets the helper finish what is in flight and exit; the next command starts a new one. */
export async function stopExecHelper(): Promise<void> {
  const stopping = helper;
  helper = undefined;
  await stopping?.stop();
}

export async function execute(file: string, args: readonly string[], input?: string, options: ExecOptions = {}): Promise<ExecResult> {
  const { netns, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`execute ${file}: timeoutMs must be a positive integer, got ${timeoutMs}`);
  spawnCount++;
  const h = runningHelper();
  if (!h) return spawnDirect(file, args, input, netns, timeoutMs);
  try {
    return await h.run({ file, args, stdin: input, netns, timeoutMs });
  } catch (err) {
    // The helper never started, so neither did the command: run it the slow way.
    if (err instanceof HelperStartError) return spawnDirect(file, args, input, netns, timeoutMs);
    throw err;
  }
}

function spawnDirect(file: string, args: readonly string[], input: string | undefined, netns: string | undefined, timeoutMs: number): Promise<ExecResult> {
  // Fail a vanished namespace the way the helper does, not as nsenter's exit code.
  if (netns !== undefined && !existsSync(netns)) return Promise.reject(new Error(`cannot open netns ${netns}: no such file or directory`));
  const argv = netns === undefined ? [file, ...args] : [...enter(file, netns), ...args];
  const [prog = file, ...rest] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(prog, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer, not spawn's `timeout` option: that one is only cleared on
    // 'exit', which a child that failed to start never emits.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${prog}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        // As the helper reports it (and a shell would): 128+signal for a killed command.
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut ? `${stderr}${prog} killed with SIGKILL after the ${timeoutMs} ms timeout\n` : stderr,
      });
    });
    // A child that exits before reading stdin would otherwise raise EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

const PINNED_NETNS_RE = /^\/run\/netns\/([^/]+)$/;

/** The start of an argv that runs `file` inside `netns`: for a pinned namespace `ip -n` is cheaper than nsenter + ip. */
function enter(file: string, netns: string): string[] {
  const pinned = PINNED_NETNS_RE.exec(netns)?.[1];
  return file === 'ip' && pinned !== undefined ? ['ip', '-n', pinned] : ['nsenter', `--net=${netns}`, '--', file];
}
