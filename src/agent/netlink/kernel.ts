// The datapath's kernel I/O: reads and writes of network namespaces through
// netlink, carried out by the eni-exec helper (native/eni-exec, on
// github.com/vishvananda/netlink). No process is started: a read or a batch of
// writes is one request on the helper's pipe.
import { netlinkHelper } from './exec.js';
import type { Snapshot } from './model.js';
import { describeNetns, netnsFile, type Netns } from './netns.js';
import type { Step, StepFailure } from './steps.js';

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';

  constructor(
    readonly where: string,
    /** The failures that made the batch fail, in step order. */
    readonly failures: StepFailure[],
  ) {
    super(`${where}: ${failures.map((f) => f.message).join('; ')}`);
  }
}

function target(ns: Netns): { netns?: string } {
  return ns.kind === 'current' ? {} : { netns: netnsFile(ns) };
}

const SNAPSHOT_KEYS = ['links', 'addresses', 'routes', 'rules', 'neighbours', 'proxies', 'netconf'] as const;

function isSnapshot(v: unknown): v is Snapshot {
  return typeof v === 'object' && v !== null && SNAPSHOT_KEYS.every((k) => Array.isArray((v as Record<string, unknown>)[k]));
}

/** Links, addresses, routes (all tables), rules, neighbours, proxy neighbours and IPv4 settings of a namespace. */
export async function readNamespace(ns: Netns): Promise<Snapshot> {
  const answer = await netlinkHelper().request({ op: 'read', ...target(ns) }, `reading ${describeNetns(ns)}`);
  if (!isSnapshot(answer.snapshot)) throw new Error(`${describeNetns(ns)}: the eni-exec helper's read lacks part of the namespace: ${JSON.stringify(answer).slice(0, 200)}`);
  return answer.snapshot;
}

export interface ApplyOptions {
  /**
   * Carry on past failing steps and report them all; failures that only say
   * "already gone" are ignored. For removals, which must be idempotent.
   */
  tolerateGone?: boolean;
}

function isFailures(v: unknown): v is { failures: StepFailure[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { failures?: unknown }).failures);
}

/** Makes the changes in order; without tolerateGone the first failure stops them. Throws a NetlinkError naming what failed. */
export async function applySteps(ns: Netns, steps: readonly Step[], options: ApplyOptions = {}): Promise<void> {
  if (steps.length === 0) return;
  const keepGoing = options.tolerateGone ?? false;
  const answer = await netlinkHelper().request({ op: 'apply', ...target(ns), steps, keepGoing }, `writing ${describeNetns(ns)}`);
  if (!isFailures(answer.applied)) throw new Error(`${describeNetns(ns)}: the eni-exec helper's answer lacks the outcome: ${JSON.stringify(answer).slice(0, 200)}`);
  const real = keepGoing ? answer.applied.failures.filter((f) => f.kind !== 'gone') : answer.applied.failures;
  if (real.length > 0) throw new NetlinkError(describeNetns(ns), real);
}

export interface ProbeResult {
  supported: boolean;
  detail: string;
}

/**
 * Whether the kernel can create a link of `kind`: the helper makes a veth and
 * the link on it in a scratch namespace, loading the module if need be.
 */
export async function probeLinkKind(kind: 'ipvlan' | 'macvlan'): Promise<ProbeResult> {
  const answer = await netlinkHelper().request({ op: 'probe', kind }, `probing ${kind}`);
  const probe = answer.probe as Partial<ProbeResult> | undefined;
  if (typeof probe?.supported !== 'boolean' || typeof probe.detail !== 'string') throw new Error(`the eni-exec helper's probe answer is malformed: ${JSON.stringify(answer).slice(0, 200)}`);
  return { supported: probe.supported, detail: probe.detail };
}
