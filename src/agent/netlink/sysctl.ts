// Per-namespace sysctls. /proc/sys/net shows the namespace of the process that
// opens it, so the agent's own namespace is written directly (no process) and
// any other one through a shell started inside it.
import { writeFileSync } from 'node:fs';
import { execute } from './exec.js';
import { commandIn, describeNetns, type Netns } from './netns.js';

export interface Sysctl {
  /** Path under /proc/sys as segments, e.g. ['net', 'ipv4', 'conf', 'eth1', 'rp_filter']. */
  path: string[];
  value: string;
}

function validate(s: Sysctl): string {
  if (s.path.length === 0 || s.path.some((p) => p === '' || p === '.' || p === '..' || p.includes('/'))) {
    throw new Error(`invalid sysctl path ${JSON.stringify(s.path)}`);
  }
  return s.path.join('/');
}

const WRITE_ALL = 'while [ $# -gt 1 ]; do printf %s "$2" > "/proc/sys/$1" || exit 1; shift 2; done';

export async function writeSysctls(ns: Netns, sysctls: readonly Sysctl[]): Promise<void> {
  if (sysctls.length === 0) return;
  const pairs = sysctls.map((s) => [validate(s), s.value] as const);
  if (ns.kind === 'current') {
    for (const [path, value] of pairs) writeFileSync(`/proc/sys/${path}`, value);
    return;
  }
  const { file, args, netns } = commandIn(ns, 'sh', ['-c', WRITE_ALL, 'sh', ...pairs.flat()]);
  const res = await execute(file, args, undefined, { netns });
  if (res.code !== 0) throw new Error(`${describeNetns(ns)}: cannot set sysctls ${pairs.map((p) => p.join('=')).join(' ')}: ${res.stderr.trim()}`);
}
