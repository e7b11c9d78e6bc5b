// The I/O shared by the datapaths: read a namespace, run actions, turn kernel
// failures into typed errors.
import { IpBatchError, ipApply } from '../netlink/ip.js';
import type { Link, Snapshot } from '../netlink/model.js';
import { describeNetns, netnsExists, pathNetns, type Netns } from '../netlink/netns.js';
import { readSnapshot } from '../netlink/snapshot.js';
import { writeSysctls } from '../netlink/sysctl.js';
import { renderActions, type Action } from './actions.js';
import { DatapathError } from './types.js';

export function kernelError(err: unknown): DatapathError {
  if (err instanceof DatapathError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof IpBatchError && err.failures.some((f) => /File exists/.test(f.message))) {
    return new DatapathError('Conflict', message, { cause: err });
  }
  return new DatapathError('KernelError', message, { cause: err });
}

export async function read(ns: Netns): Promise<Snapshot> {
  try {
    return await readSnapshot(ns);
  } catch (err) {
    throw kernelError(err);
  }
}

export interface WriteOptions {
  /** Raw lines before the actions (creations that need more than an Action). */
  before?: readonly string[];
  actions?: readonly Action[];
  /** Raw lines after the actions. */
  after?: readonly string[];
  /** Carry on past "already gone" failures (removals). */
  tolerateGone?: boolean;
}

/** One `ip -batch` process for the lines and actions, then the actions' sysctls. */
export async function write(ns: Netns, options: WriteOptions): Promise<void> {
  const rendered = renderActions(options.actions ?? []);
  try {
    await ipApply(ns, [...(options.before ?? []), ...rendered.lines, ...(options.after ?? [])], { tolerateGone: options.tolerateGone ?? false });
    await writeSysctls(ns, rendered.sysctls);
  } catch (err) {
    throw kernelError(err);
  }
}

/** The pod's namespace as a Netns, or NetnsNotFound. */
export function podNetns(path: string): Netns {
  const ns = pathNetns(path);
  if (!netnsExists(ns)) throw new DatapathError('NetnsNotFound', `${describeNetns(ns)} does not exist`);
  return ns;
}

/** The snapshot as it will be once `without` are gone and `links` exist (down), so a diff plans their routes. */
export function withLinks(snapshot: Snapshot, links: readonly Partial<Link>[], without: readonly string[] = []): Snapshot {
  const full = links.map(
    (l): Link => ({ index: 0, name: '', mac: '', kind: undefined, up: false, linkName: undefined, linkIndex: undefined, linkElsewhere: true, alias: undefined, ipvlanMode: undefined, ...l }),
  );
  const kept = (o: { dev?: string | undefined }): boolean => o.dev === undefined || !without.includes(o.dev);
  return {
    ...snapshot,
    links: [...snapshot.links.filter((l) => !without.includes(l.name)), ...full],
    // What hangs off a link that is deleted or moved away goes with it.
    addresses: snapshot.addresses.filter(kept),
    routes: snapshot.routes.filter(kept),
    neighbours: snapshot.neighbours.filter(kept),
    proxies: snapshot.proxies.filter(kept),
  };
}

/** Whether a veth pair joins `host` (node side) and `pod` (pod side). */
export function paired(host: Link | undefined, pod: Link | undefined): boolean {
  return host !== undefined && pod !== undefined && pod.kind === 'veth' && host.kind === 'veth' && pod.linkIndex === host.index && host.linkIndex === pod.index;
}

/** Double-quoted for `ip -batch` (the alias is the only free-form text we write). */
export function quoted(text: string): string {
  if (/["\\\n]/.test(text)) throw new Error(`cannot quote ${JSON.stringify(text)} for ip -batch`);
  return `"${text}"`;
}
