// Which network namespace a command runs in, and how `ip` is invoked there.
import { existsSync } from 'node:fs';

export type Netns =
  /** This process's own namespace: the node namespace of a real agent. */
  | { kind: 'current' }
  /** A namespace pinned under /run/netns (tests and sandbox nodes), entered with `ip -n`. */
  | { kind: 'named'; name: string }
  /** Any nsfs path, e.g. the runtime's CNI_NETNS, entered with `nsenter --net=`. */
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

/** argv that runs `prog args...` inside `ns`. `ip` itself switches cheaply with -n. */
export function commandIn(ns: Netns, prog: string, args: readonly string[]): { file: string; args: string[] } {
  if (ns.kind === 'current') return { file: prog, args: [...args] };
  if (ns.kind === 'named' && prog === 'ip') return { file: 'ip', args: ['-n', ns.name, ...args] };
  return { file: 'nsenter', args: [`--net=${netnsFile(ns)}`, '--', prog, ...args] };
}
