// What a restarted agent knows of its pods before any request arrives. Two
// records survive the restart: the NodeNetwork status the last run wrote
// (a little behind, as writes are coalesced) and the container map journal
// (written as each ADD and DEL happens). Where they disagree, the journal is
// the later word. Pure.
import type { AttachmentStatus } from '../api/nodenetwork.js';
import type { LocalState } from './status.js';

export interface ResumeInput {
  /** Attachment states of the status the last run wrote. */
  reported: readonly AttachmentStatus[];
  /** Pods the plan names now. */
  planned: ReadonlySet<string>;
  /** Pods with a container in the map (an ADD started, no DEL finished). */
  wired: ReadonlySet<string>;
  /** Pods with a container whose last ADD succeeded. */
  ready: ReadonlySet<string>;
  /** The map file was there: it is a record, not a blank after a lost state directory. */
  mapFound: boolean;
  now: number;
}

export interface Resumed {
  states: Map<string, LocalState>;
  /** Pods reported Ready that the map does not know because it was lost: kept wired until their DEL. */
  rewire: string[];
}

export function resume(i: ResumeInput): Resumed {
  const states = new Map<string, LocalState>();
  for (const a of i.reported) states.set(a.podUID, { state: a.state, ...(a.reason ? { reason: a.reason } : {}), ...(a.message ? { message: a.message } : {}), at: i.now });
  // An ADD that succeeded just before the kill, its Ready not yet written. (A pod reported
  // Failed for drift since then is judged again by the repair at start, which reads the kernel.)
  for (const uid of i.ready) if (i.planned.has(uid) && states.get(uid)?.state !== 'Ready') states.set(uid, { state: 'Ready', at: i.now });
  const rewire: string[] = [];
  for (const [uid, s] of states) {
    if (s.state !== 'Ready' || i.wired.has(uid)) continue;
    // A DEL that finished just before the kill, its Released not yet written.
    if (i.mapFound) states.set(uid, { state: 'Released', at: i.now });
    else rewire.push(uid);
  }
  return { states, rewire };
}
