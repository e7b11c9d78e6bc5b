// Which subnet a new ENI goes into. Pure.
import type { SubnetInfo } from './types.js';

/** How long a subnet the cloud called exhausted is skipped (Terway uses 10 min). */
export const EXHAUSTED_BACKOFF_MS = 10 * 60_000;

/**
 * The subnet with the most free IPs among those not marked exhausted (the
 * caller asks it for what it has, up to what it wants). Undefined when every
 * subnet is out.
 */
export function pickSubnet(subnets: SubnetInfo[], now: number): SubnetInfo | undefined {
  return subnets
    .filter((s) => !(s.exhaustedUntil !== undefined && s.exhaustedUntil > now) && s.availableIPs >= 1)
    .sort((a, b) => b.availableIPs - a.availableIPs || (a.id < b.id ? -1 : 1))[0];
}

/** The subnet list after the cloud said `id` is exhausted. */
export function markExhausted(subnets: SubnetInfo[], id: string, now: number): SubnetInfo[] {
  return subnets.map((s) => (s.id === id ? { ...s, availableIPs: 0, exhaustedUntil: now + EXHAUSTED_BACKOFF_MS } : s));
}
