// iproute2 as the netlink client: `ip -json -batch -` reads many tables in one
// process, `ip -batch -` writes many objects in one process.
import { execute } from './exec.js';
import { commandIn, describeNetns, type Netns } from './netns.js';

export interface BatchFailure {
  /** 1-based line of the batch. */
  line: number;
  command: string;
  message: string;
}

export class IpBatchError extends Error {
  override readonly name = 'IpBatchError';

  constructor(
    readonly where: string,
    readonly failures: BatchFailure[],
    stderr: string,
  ) {
    const first = failures[0];
    super(first ? `${where}: \`ip ${first.command}\` failed: ${first.message}` : `${where}: ip failed: ${stderr.trim() || 'no output'}`);
  }
}

/** Splits `ip -batch` stderr into per-line failures ("...message...\nCommand failed -:N"). */
export function parseBatchFailures(stderr: string, lines: readonly string[]): BatchFailure[] {
  const failures: BatchFailure[] = [];
  let pending: string[] = [];
  for (const text of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(text.trim());
    if (!m) {
      if (text.trim()) pending.push(text.trim());
      continue;
    }
    const line = Number(m[1]);
    failures.push({ line, command: lines[line - 1] ?? '?', message: pending.join('; ') || 'unknown error' });
    pending = [];
  }
  return failures;
}

/** Messages that mean "already gone": acceptable when deleting. */
const GONE = /Cannot find device|No such process|No such file or directory|Cannot assign requested address|does not exist|not found/i;

export function isGone(failure: BatchFailure): boolean {
  return GONE.test(failure.message);
}

/**
 * Runs read-only `show` commands in one process and returns one parsed JSON
 * array per command. Numeric output (-N) so tables, scopes and protocols read
 * the same whatever /etc/iproute2 names them.
 */
export async function ipShow(ns: Netns, commands: readonly string[]): Promise<unknown[][]> {
  const { file, args, netns } = commandIn(ns, 'ip', ['-4', '-N', '-d', '-json', '-batch', '-']);
  const input = commands.join('\n') + '\n';
  const res = await execute(file, args, input, { netns });
  if (res.code !== 0) throw new IpBatchError(describeNetns(ns), parseBatchFailures(res.stderr, commands), res.stderr);
  const docs = res.stdout.split('\n').filter((l) => l.trim() !== '');
  if (docs.length !== commands.length) {
    throw new Error(`${describeNetns(ns)}: expected ${commands.length} JSON documents from ip, got ${docs.length}`);
  }
  return docs.map((doc, i) => {
    const parsed: unknown = JSON.parse(doc);
    if (!Array.isArray(parsed)) throw new Error(`${describeNetns(ns)}: \`ip ${commands[i]}\` did not print a JSON array`);
    return parsed as unknown[];
  });
}

export interface ApplyOptions {
  /**
   * Carry on past failing lines and report them all; failures that only say
   * "already gone" are ignored. For removals, which must be idempotent.
   */
  tolerateGone?: boolean;
}

/** Runs write commands in one process. Without tolerateGone the first failure stops the batch. */
export async function ipApply(ns: Netns, lines: readonly string[], options: ApplyOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  for (const line of lines) if (line.includes('\n')) throw new Error(`ip batch line contains a newline: ${JSON.stringify(line)}`);
  const flags = options.tolerateGone ? ['-force', '-batch', '-'] : ['-batch', '-'];
  const { file, args, netns } = commandIn(ns, 'ip', flags);
  const res = await execute(file, args, lines.join('\n') + '\n', { netns });
  if (res.code === 0) return;
  const failures = parseBatchFailures(res.stderr, lines);
  const real = options.tolerateGone ? failures.filter((f) => !isGone(f)) : failures;
  if (real.length > 0 || failures.length === 0) throw new IpBatchError(describeNetns(ns), real, res.stderr);
}
