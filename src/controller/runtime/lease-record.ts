// The pure half of leader election: given the Lease as read and what this
// candidate observed before, may it take or renew the lease, and what does it
// write? Like client-go, expiry is judged on the local clock from when the
// record was last seen to change, never from the (possibly skewed) renewTime.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
}

/** The last distinct record this candidate saw, and when (local clock). */
export interface Observation {
  fingerprint: string;
  at: number;
}

export type LeaseDecision =
  | { action: 'write'; record: LeaseRecord; acquired: boolean }
  | { action: 'wait'; holder: string; expiresAt: number };

export function fingerprint(r: LeaseRecord): string {
  return JSON.stringify([r.holderIdentity ?? '', r.renewTime?.getTime() ?? 0, r.leaseDurationSeconds ?? 0, r.leaseTransitions ?? 0]);
}

/** Updates the observation: its time moves only when the record changed. */
export function observe(prev: Observation | undefined, r: LeaseRecord, now: number): Observation {
  const fp = fingerprint(r);
  return prev?.fingerprint === fp ? prev : { fingerprint: fp, at: now };
}

/**
 * Decides for `identity` at local time `now`. `observed` must already include
 * the current record (see observe()).
 */
export function decide(current: LeaseRecord, observed: Observation, identity: string, now: number, leaseDurationSeconds: number): LeaseDecision {
  const holder = current.holderIdentity ?? '';
  const mine = holder === identity;
  if (holder !== '' && !mine) {
    const duration = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expiresAt = observed.at + duration;
    if (now < expiresAt) return { action: 'wait', holder, expiresAt };
  }
  const stamp = new Date(now);
  return {
    action: 'write',
    acquired: !mine,
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: mine ? (current.acquireTime ?? stamp) : stamp,
      renewTime: stamp,
      leaseTransitions: (current.leaseTransitions ?? 0) + (mine ? 0 : 1),
    },
  };
}

/** The record a leader writes when it steps down gracefully: nobody holds it. */
export function released(current: LeaseRecord, now: number): LeaseRecord {
  return { ...current, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new Date(now), acquireTime: new Date(now) };
}
