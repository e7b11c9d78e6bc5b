// Changes to a node's ledger: pods getting and giving back addresses, and the
// results of cloud calls. These mutate the ENI list they are given (the
// controller works on its own copy per reconcile) and do no I/O.
import { usableIPs } from './counts.js';
import type { ENIRole, LedgerENI } from './types.js';

export interface PodRef {
  uid: string;
  /** namespace/name */
  name: string;
}

export type Holding = { kind: 'ip'; eniId: string; address: string } | { kind: 'eni'; eniId: string; address: string };

/** What a pod holds now, if anything. */
export function findPod(enis: LedgerENI[], podUID: string): Holding | undefined {
  for (const eni of enis) {
    if (eni.role === 'exclusive' && eni.podUID === podUID) return { kind: 'eni', eniId: eni.id, address: eni.ips.find((ip) => ip.primary)?.address ?? '' };
    const ip = eni.ips.find((x) => x.podUID === podUID && x.state === 'assigned');
    if (ip) return { kind: 'ip', eniId: eni.id, address: ip.address };
  }
  return undefined;
}

/**
 * Gives a shared pod a free IP of an attached ENI: the ENI with the most pods
 * first (so others drain and can be reclaimed whole), and on it the IP free
 * the longest (so a just-freed address is the last to be reused). Idempotent.
 */
export function allocateShared(enis: LedgerENI[], pod: PodRef, now: number, usePrimaryIPs: boolean): Holding | undefined {
  const held = findPod(enis, pod.uid);
  if (held) return held;
  const candidates = enis
    .filter((e) => e.role === 'shared' && e.ready && usableIPs(e, usePrimaryIPs).some((ip) => ip.state === 'free'))
    .sort((a, b) => assignedCount(b) - assignedCount(a) || (a.id < b.id ? -1 : 1));
  const eni = candidates[0];
  if (!eni) return undefined;
  const ip = usableIPs(eni, usePrimaryIPs)
    .filter((x) => x.state === 'free')
    .sort((a, b) => a.since - b.since || (a.address < b.address ? -1 : 1))[0]!;
  Object.assign(ip, { state: 'assigned', podUID: pod.uid, pod: pod.name, since: now });
  delete ip.cooldownUntil;
  return { kind: 'ip', eniId: eni.id, address: ip.address };
}

/** Gives an exclusive pod a spare attached ENI. Idempotent. */
export function allocateExclusive(enis: LedgerENI[], pod: PodRef, now: number): Holding | undefined {
  const held = findPod(enis, pod.uid);
  if (held) return held;
  const eni = enis
    .filter((e) => e.role === 'exclusive' && e.ready && !e.podUID && !(e.cooldownUntil !== undefined && e.cooldownUntil > now))
    .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0) || (a.id < b.id ? -1 : 1))[0];
  if (!eni) return undefined;
  eni.podUID = pod.uid;
  eni.pod = pod.name;
  delete eni.idleSince;
  delete eni.cooldownUntil;
  return { kind: 'eni', eniId: eni.id, address: eni.ips.find((ip) => ip.primary)?.address ?? '' };
}

/** The pod is gone and its datapath torn down: its address rests for `cooldownMs`. */
export function releasePod(enis: LedgerENI[], podUID: string, now: number, cooldownMs: number): boolean {
  for (const eni of enis) {
    if (eni.role === 'exclusive' && eni.podUID === podUID) {
      delete eni.podUID;
      delete eni.pod;
      eni.idleSince = now;
      eni.cooldownUntil = now + cooldownMs;
      return true;
    }
    const ip = eni.ips.find((x) => x.podUID === podUID);
    if (ip) {
      Object.assign(ip, { state: 'cooldown', since: now, cooldownUntil: now + cooldownMs });
      delete ip.podUID;
      delete ip.pod;
      return true;
    }
  }
  return false;
}

/** Addresses whose cooldown is over become free. Returns how many. */
export function settleCooldowns(enis: LedgerENI[], now: number): number {
  let n = 0;
  for (const eni of enis) {
    for (const ip of eni.ips) {
      if (ip.state === 'cooldown' && (ip.cooldownUntil ?? 0) <= now) {
        ip.state = 'free';
        ip.since = ip.cooldownUntil ?? now;
        delete ip.cooldownUntil;
        n++;
      }
    }
    if (eni.cooldownUntil !== undefined && eni.cooldownUntil <= now) delete eni.cooldownUntil;
  }
  return n;
}

/** An address the plan gives a pod (what adoptPlanned needs of a NodeNetwork attachment). */
export interface PlannedHolding {
  pod: PodRef;
  eniId: string;
  /** Without prefix length. */
  address: string;
  exclusive: boolean;
}

/**
 * Folds into the ledger what the plan gives pods and the ledger does not:
 * the ledger and the plan are written side by side, so a crash (or a failed
 * write) can leave a plan newer than its ledger. Only what the ledger holds
 * as free (an IP, or an exclusive ENI out of cooldown) is taken: anything
 * else is a stale plan entry, which the next plan written from the ledger
 * drops. Returns the pods adopted.
 */
export function adoptPlanned(enis: LedgerENI[], planned: readonly PlannedHolding[], now: number): string[] {
  const adopted: string[] = [];
  for (const p of planned) {
    if (findPod(enis, p.pod.uid)) continue;
    const eni = enis.find((e) => e.id === p.eniId);
    if (!eni || eni.role !== (p.exclusive ? 'exclusive' : 'shared')) continue;
    if (p.exclusive) {
      const primary = eni.ips.find((ip) => ip.primary);
      if (eni.podUID || primary?.address !== p.address || (eni.cooldownUntil !== undefined && eni.cooldownUntil > now)) continue;
      eni.podUID = p.pod.uid;
      eni.pod = p.pod.name;
      delete eni.idleSince;
      delete eni.cooldownUntil;
    } else {
      const ip = eni.ips.find((x) => x.address === p.address && x.state === 'free');
      if (!ip) continue;
      Object.assign(ip, { state: 'assigned', podUID: p.pod.uid, pod: p.pod.name, since: now });
      delete ip.cooldownUntil;
    }
    adopted.push(p.pod.uid);
  }
  return adopted;
}

export interface CreatedENI {
  id: string;
  role: ENIRole;
  subnetId: string;
  primaryIP: string;
  secondaryIPs: string[];
  ready: boolean;
}

export function applyCreated(enis: LedgerENI[], created: CreatedENI, now: number): void {
  if (enis.some((e) => e.id === created.id)) return;
  enis.push({
    id: created.id,
    role: created.role,
    subnetId: created.subnetId,
    ready: created.ready,
    ips: [
      { address: created.primaryIP, state: 'free', primary: true, since: now },
      ...created.secondaryIPs.map((address) => ({ address, state: 'free' as const, primary: false, since: now })),
    ],
    ...(created.role === 'exclusive' ? { idleSince: now } : {}),
  });
}

export function applyAssigned(enis: LedgerENI[], eniId: string, addresses: string[], now: number): void {
  const eni = enis.find((e) => e.id === eniId);
  if (!eni) return;
  for (const address of addresses) {
    if (!eni.ips.some((ip) => ip.address === address)) eni.ips.push({ address, state: 'free', primary: false, since: now });
  }
}

/** Removes unassigned addresses; only free ones (the plan never unassigns a used one). */
export function applyUnassigned(enis: LedgerENI[], eniId: string, addresses: string[]): void {
  const eni = enis.find((e) => e.id === eniId);
  if (eni) eni.ips = eni.ips.filter((ip) => !(addresses.includes(ip.address) && ip.state === 'free' && !ip.primary));
}

export function applyDeleted(enis: LedgerENI[], eniId: string): void {
  const i = enis.findIndex((e) => e.id === eniId);
  if (i >= 0) enis.splice(i, 1);
}

function assignedCount(eni: LedgerENI): number {
  return eni.ips.filter((ip) => ip.state === 'assigned').length;
}
