// What the agent reports in its NodeNetwork's status: one entry per attachment
// it has dealt with (Pending / Ready / Failed with a reason / Released), the
// node's capabilities and counts. Pure.
import type { AttachmentStatus, NodeNetworkSpec, NodeNetworkStatus } from '../api/nodenetwork.js';

export type LocalState = Pick<AttachmentStatus, 'state' | 'reason' | 'message'> & { at: number };

export interface Capabilities {
  kernelVersion: string;
  ipvlan: boolean;
  ebpf: boolean;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The status to write. Attachments the plan no longer names are kept only as
 * `Released` (the controller drops an attachment once it has seen that), so a
 * release is never lost between the agent's write and the controller's read.
 */
export function statusFor(spec: NodeNetworkSpec | undefined, local: ReadonlyMap<string, LocalState>, previous: NodeNetworkStatus | undefined, caps: Capabilities, generation: number): NodeNetworkStatus {
  const planned = new Set((spec?.attachments ?? []).map((a) => a.podUID));
  const before = new Map((previous?.attachments ?? []).map((a) => [a.podUID, a]));
  const attachments: AttachmentStatus[] = [];
  for (const [podUID, s] of [...local.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!planned.has(podUID) && s.state !== 'Released') continue;
    const old = before.get(podUID);
    const entry: AttachmentStatus = { podUID, state: s.state, lastTransitionTime: old && old.state === s.state && old.lastTransitionTime ? old.lastTransitionTime : stamp(s.at) };
    if (s.reason) entry.reason = s.reason;
    if (s.message) entry.message = s.message.slice(0, 4096);
    attachments.push(entry);
  }
  const count = (state: AttachmentStatus['state']) => attachments.filter((a) => a.state === state).length;
  return {
    observedGeneration: generation,
    conditions: previous?.conditions ?? [],
    attachments,
    capabilities: { ...caps },
    counts: { ready: count('Ready'), failed: count('Failed'), released: count('Released') },
  };
}

/** How long an ADD's "waiting for the plan" is remembered for a pod the plan does not name (yet). */
export const PENDING_MEMORY_MS = 10 * 60_000;

/**
 * Local entries that can be forgotten: those of pods the plan no longer names.
 * Released: the controller has seen it. Ready or Failed: the pod went without
 * its DEL reaching this agent (it was down), and the controller let the
 * attachment go after its grace; statusFor would never report them again.
 * Pending: the plan may still come, so only after PENDING_MEMORY_MS.
 */
export function forgettable(spec: NodeNetworkSpec | undefined, local: ReadonlyMap<string, LocalState>, now: number): string[] {
  const planned = new Set((spec?.attachments ?? []).map((a) => a.podUID));
  return [...local.entries()].filter(([uid, s]) => !planned.has(uid) && (s.state !== 'Pending' || now - s.at > PENDING_MEMORY_MS)).map(([uid]) => uid);
}
