// Which network namespace a command runs in, and the nsfs file that names it.
import { existsSync } from 'node:fs';

export type Netns =
  /** This process's own namespace: the node namespace of a real agent. */
  | { kind: 'current' }
  /** A namespace pinned under /run/netns (tests and sandbox nodes). */
  | { kind: 'named'; name: string }
  /** Any nsfs path, e.g. the runtime's CNI_NETNS. */
  | { kind: 'path'; path: string };

export const CURRENT_NETNS: Netns = { kind: 'current' };

const NETNS_RUN_DIR = '/run/netns';
const NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/;

export function namedNetns(name: string): Netns {
  if (!NAME_RE.test(name)) throw new Error(`invalid network namespace name ${JSON.stringify(name)}`);
  return { kind: 'named', name };
}

export function pathNetns(path: string): Netns {
  if (!path.startsWith('/') || /\s/.test(path)) throw new Error(`network namespace path must be absolute without spaces: ${JSON.stringify(path)}`);
  return { kind: 'path', path };
}

/** The nsfs file of a namespace, for `ip link ... netns <ref>` issued from another namespace. */
export function netnsFile(ns: Netns): string {
  switch (ns.kind) {
    case 'current':
      return `/proc/${process.pid}/ns/net`;
    case 'named':
      return `${NETNS_RUN_DIR}/${ns.name}`;
    case 'path':
      return ns.path;
  }
}

export function netnsExists(ns: Netns): boolean {
  return ns.kind === 'current' || existsSync(netnsFile(ns));
}

export function describeNetns(ns: Netns): string {
  return ns.kind === 'current' ? 'the node namespace' : ns.kind === 'named' ? `netns ${ns.name}` : `netns ${ns.path}`;
}

/**
 * How to run `prog args...` inside `ns`: pass the result to execute(file, args,
 * input, { netns }). The namespace is entered by execute (setns in the
 * eni-exec helper, or nsenter), not by wrapping the argv.
 */
export function commandIn(ns: Netns, prog: string, args: readonly string[]): { file: string; args: string[]; netns?: string } {
  if (ns.kind === 'current') return { file: prog, args: [...args] };
  return { file: prog, args: [...args], netns: netnsFile(ns) };
}
