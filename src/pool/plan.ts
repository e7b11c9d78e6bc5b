// The warm-pool rules of DESIGN.md §4 as one pure function: from a node's
// ledger and targets, the cloud actions that move it towards its targets.
//
//   need   = max(warmIPs − free, minIPs − total, pendingPods − free, 0),
//            clamped to maxIPs − total and to the instance's limits;
//   excess = free − maxIdleIPs, released after reclaimAfter, never below
//            minIPs, oldest idle first.
//
// Existing ENIs are filled before a new one is attached; at most one ENI is
// created per plan (the next reconcile sees it and continues).
import { ipToInt } from '../util/ipv4.js';
import { count, room, usableIPs } from './counts.js';
import { pickSubnet } from './subnets.js';
import type { ENIRole, LedgerENI, PoolView } from './types.js';

export type PoolAction =
  | { kind: 'assignIPs'; eniId: string; count: number }
  | { kind: 'createENI'; role: ENIRole; subnetId: string; secondaryIPs: number }
  | { kind: 'unassignIPs'; eniId: string; addresses: string[] }
  | { kind: 'deleteENI'; eniId: string };

export type Blocker = 'SubnetExhausted' | 'ENILimit' | 'MaxIPs';

export interface Plan {
  actions: PoolAction[];
  /** Shared IPs wanted beyond what the actions bring. */
  unmet: number;
  /** Why the targets cannot be reached, if they cannot (several can hold at once). */
  blocked: Blocker[];
}

/** Most IPs one unassign call may carry. */
const UNASSIGN_BATCH = 10;

export function planPool(view: PoolView): Plan {
  const { limits, targets, now } = view;
  const c = count(view);
  const actions: PoolAction[] = [];
  const blocked = new Set<Blocker>();
  let slots = limits.maxENIs - 1 - view.enis.length;
  let creating = false;

  const create = (role: ENIRole, secondaryIPs: number): boolean => {
    if (creating) return false;
    if (slots <= 0) {
      blocked.add('ENILimit');
      return false;
    }
    const subnet = pickSubnet(view.subnets, now);
    if (!subnet) {
      blocked.add('SubnetExhausted');
      return false;
    }
    // A subnet with fewer free IPs than asked still gets used for what it has.
    actions.push({ kind: 'createENI', role, subnetId: subnet.id, secondaryIPs: Math.min(secondaryIPs, subnet.availableIPs - 1) });
    creating = true;
    slots--;
    return true;
  };

  // 1. Exclusive pods waiting for an ENI come first: they cannot share.
  if (view.pendingExclusive > c.spareExclusive) create('exclusive', 0);

  // 2. Shared deficit: fill existing ENIs, then attach a new one.
  let need = Math.max(targets.warmIPs - c.free, targets.minIPs - c.total, view.pendingShared - c.free, 0);
  const headroom = targets.maxIPs - c.total;
  if (need > headroom) {
    need = Math.max(headroom, 0);
    if (need === 0) blocked.add('MaxIPs');
  }
  // A call for ten IPs costs what a call for one does: once IPs are wanted at
  // all, ask for a full batch, up to what may stay idle without being reclaimed.
  let fill = need > 0 ? Math.min(Math.max(need, Math.min(targets.batchSize, targets.maxIdleIPs + view.pendingShared - c.free)), Math.max(headroom, 0)) : 0;
  const fillable = view.enis
    .filter((e) => e.role === 'shared' && e.ready && room(e, limits.ipsPerENI) > 0)
    .sort((a, b) => b.ips.length - a.ips.length || (a.id < b.id ? -1 : 1));
  // What each subnet can still give: an ENI grows only from its own subnet.
  const subnetFree = new Map(view.subnets.map((sn) => [sn.id, sn.exhaustedUntil !== undefined && sn.exhaustedUntil > now ? 0 : sn.availableIPs]));
  let roomLeft = 0; // room on existing ENIs beyond this plan's batches
  let starved = false;
  for (const eni of fillable) {
    const fromSubnet = subnetFree.get(eni.subnetId) ?? Infinity;
    const r = Math.min(room(eni, limits.ipsPerENI), fromSubnet);
    if (r === 0) starved = true;
    const n = Math.min(r, fill, targets.batchSize);
    if (n > 0) {
      actions.push({ kind: 'assignIPs', eniId: eni.id, count: n });
      subnetFree.set(eni.subnetId, fromSubnet - n);
    }
    need = Math.max(0, need - n);
    fill -= n;
    roomLeft += r - n;
  }
  // Existing ENIs with room get the rest on the next reconcile, not a new ENI.
  if (need > 0 && need > roomLeft) {
    // A new ENI brings its primary IP (usable or not) plus secondaries.
    const fromPrimary = view.usePrimaryIPs ? 1 : 0;
    const secondaries = Math.max(0, Math.min(Math.max(need, fill) - fromPrimary, limits.ipsPerENI - 1, targets.batchSize));
    if (create('shared', secondaries)) need -= fromPrimary + secondaries;
  }
  need = Math.max(0, need - roomLeft);
  if (need > 0 && starved) blocked.add('SubnetExhausted');

  // 3. Spare exclusive ENIs.
  if (c.spareExclusive < targets.warmENIs && view.pendingExclusive <= c.spareExclusive) create('exclusive', 0);

  // 4. Reclaim: shared IPs only when none are wanted; spare exclusive ENIs
  // above target always (their slot may be what a shared need is waiting for).
  const wanted = actions.some((a) => a.kind === 'assignIPs' || (a.kind === 'createENI' && a.role === 'shared'));
  if (!wanted && need === 0) actions.push(...reclaimShared(view, c.free, c.total));
  if (!actions.some((a) => a.kind === 'createENI' && a.role === 'exclusive')) actions.push(...reclaimExclusive(view, c.spareExclusive));

  return { actions, unmet: Math.max(need, 0), blocked: [...blocked].sort() };
}

function reclaimShared(view: PoolView, free: number, total: number): PoolAction[] {
  const { targets, now, usePrimaryIPs } = view;
  // Waiting pods take free IPs first.
  let budget = Math.min(free - view.pendingShared - targets.maxIdleIPs, total - targets.minIPs);
  if (budget <= 0) return [];
  const idleBefore = now - targets.reclaimAfterMs;
  const isIdle = (e: LedgerENI) => e.ips.every((ip) => ip.state === 'free' && ip.since <= idleBefore);
  const actions: PoolAction[] = [];

  // Whole ENIs first: deleting one frees its slot and its primary IP too.
  const wholes = view.enis
    .filter((e) => e.role === 'shared' && e.ready && e.ips.length > 0 && isIdle(e))
    .sort((a, b) => lastUse(a) - lastUse(b) || (a.id < b.id ? -1 : 1));
  const deleted = new Set<string>();
  for (const eni of wholes) {
    const usable = usableIPs(eni, usePrimaryIPs).length;
    if (usable > budget) continue;
    actions.push({ kind: 'deleteENI', eniId: eni.id });
    deleted.add(eni.id);
    budget -= usable;
  }

  // Then single secondary IPs, oldest idle first.
  const candidates = view.enis
    .filter((e) => e.role === 'shared' && e.ready && !deleted.has(e.id))
    .flatMap((e) => e.ips.filter((ip) => !ip.primary && ip.state === 'free' && ip.since <= idleBefore).map((ip) => ({ eni: e.id, ip })))
    .sort((a, b) => a.ip.since - b.ip.since || ipToInt(a.ip.address) - ipToInt(b.ip.address))
    .slice(0, Math.max(budget, 0));
  const byENI = new Map<string, string[]>();
  for (const { eni, ip } of candidates) byENI.set(eni, [...(byENI.get(eni) ?? []), ip.address]);
  for (const [eniId, addresses] of byENI) {
    for (let i = 0; i < addresses.length; i += UNASSIGN_BATCH) actions.push({ kind: 'unassignIPs', eniId, addresses: addresses.slice(i, i + UNASSIGN_BATCH) });
  }
  return actions;
}

function reclaimExclusive(view: PoolView, spare: number): PoolAction[] {
  const { targets, now } = view;
  let excess = spare - Math.max(targets.warmENIs, view.pendingExclusive);
  const actions: PoolAction[] = [];
  const idle = view.enis
    .filter((e) => e.role === 'exclusive' && e.ready && !e.podUID && (e.idleSince ?? 0) <= now - targets.reclaimAfterMs && !(e.cooldownUntil !== undefined && e.cooldownUntil > now))
    .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0));
  for (const eni of idle) {
    if (excess <= 0) break;
    actions.push({ kind: 'deleteENI', eniId: eni.id });
    excess--;
  }
  return actions;
}

/** When an ENI's IPs were last used (the newest `since`). */
function lastUse(eni: LedgerENI): number {
  return Math.max(...eni.ips.map((ip) => ip.since));
}
