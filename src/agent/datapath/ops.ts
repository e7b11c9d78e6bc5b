// The I/O shared by the datapaths: read a namespace, make changes, turn kernel
// failures into typed errors. Each read and each write is one request to the
// eni-exec helper (netlink), never a process.
import { applySteps, NetlinkError, readNamespace } from '../netlink/kernel.js';
import type { Link, Snapshot } from '../netlink/model.js';
import { describeNetns, netnsExists, pathNetns, type Netns } from '../netlink/netns.js';
import type { Step } from '../netlink/steps.js';
import { renderSteps, type Action } from './actions.js';
import { DatapathError } from './types.js';

export function kernelError(err: unknown): DatapathError {
  if (err instanceof DatapathError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NetlinkError && err.failures.some((f) => f.kind === 'exists')) {
    return new DatapathError('Conflict', message, { cause: err });
  }
  return new DatapathError('KernelError', message, { cause: err });
}

export async function read(ns: Netns): Promise<Snapshot> {
  try {
    return await readNamespace(ns);
  } catch (err) {
    throw kernelError(err);
  }
}

export interface WriteOptions {
  /** Steps before the actions (creations and moves that are more than an Action). */
  before?: readonly Step[];
  actions?: readonly Action[];
  /** Steps after the actions. */
  after?: readonly Step[];
  /** Carry on past "already gone" failures (removals). */
  tolerateGone?: boolean;
}

/** The steps, then the actions' in their order, then the steps after: one request. */
export async function write(ns: Netns, options: WriteOptions): Promise<void> {
  try {
    await applySteps(ns, [...(options.before ?? []), ...renderSteps(options.actions ?? []), ...(options.after ?? [])], { tolerateGone: options.tolerateGone ?? false });
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

/** A veth pair whose peer is born in the pod's namespace, and the alias that says whose the host end is. */
export function pairSteps(host: { name: string; mac: string }, peer: { name: string; mac: string; netns: string }, alias: string): Step[] {
  return [
    { do: 'veth-add', dev: host.name, mac: host.mac, peer: peer.name, peerMac: peer.mac, peerNetns: peer.netns },
    { do: 'link-set', dev: host.name, alias },
  ];
}

/** Whether a veth pair joins `host` (node side) and `pod` (pod side). */
export function paired(host: Link | undefined, pod: Link | undefined): boolean {
  return host !== undefined && pod !== undefined && pod.kind === 'veth' && host.kind === 'veth' && pod.linkIndex === host.index && host.linkIndex === pod.index;
}
