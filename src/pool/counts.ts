// What the ledger holds, counted the way the pool rules need it. Pure.
import type { LedgerENI, LedgerIP, PoolView } from './types.js';

/** The IPs of an ENI that pods may use. */
export function usableIPs(eni: LedgerENI, usePrimaryIPs: boolean): LedgerIP[] {
  return usePrimaryIPs ? eni.ips : eni.ips.filter((ip) => !ip.primary);
}

export interface Counts {
  /** Usable IPs held on shared ENIs, whatever their state. */
  total: number;
  /** Free IPs on shared ENIs, attached or still attaching. */
  free: number;
  /** Free IPs a pod can get right now (attached ENIs). */
  freeReady: number;
  assigned: number;
  cooling: number;
  sharedENIs: number;
  exclusiveENIs: number;
  /** Exclusive ENIs without a pod and not resting. */
  spareExclusive: number;
}

export function count(view: Pick<PoolView, 'enis' | 'usePrimaryIPs' | 'now'>): Counts {
  const c: Counts = { total: 0, free: 0, freeReady: 0, assigned: 0, cooling: 0, sharedENIs: 0, exclusiveENIs: 0, spareExclusive: 0 };
  for (const eni of view.enis) {
    if (eni.role === 'exclusive') {
      c.exclusiveENIs++;
      if (!eni.podUID && !(eni.cooldownUntil !== undefined && eni.cooldownUntil > view.now)) c.spareExclusive++;
      continue;
    }
    c.sharedENIs++;
    for (const ip of usableIPs(eni, view.usePrimaryIPs)) {
      c.total++;
      if (ip.state === 'free') {
        c.free++;
        if (eni.ready) c.freeReady++;
      } else if (ip.state === 'assigned') c.assigned++;
      else c.cooling++;
    }
  }
  return c;
}

/** IPs the cloud lets one more secondary address onto this ENI (primary counted). */
export function room(eni: LedgerENI, ipsPerENI: number): number {
  return Math.max(0, ipsPerENI - eni.ips.length);
}
