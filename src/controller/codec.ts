// ENIPool status <-> the pool core's ledger. Pure. Times are RFC 3339 in the
// API and epoch milliseconds in the ledger.
import type { ENIPoolStatus, PoolENI } from '../api/enipool.js';
import { count } from '../pool/counts.js';
import type { LedgerENI, LedgerIP } from '../pool/types.js';

/** What the controller keeps about an ENI beyond the pool arithmetic. */
export interface ENIMeta {
  mac?: string;
  subnetCIDR?: string;
  gateway?: string;
  deviceIndex?: number;
  cloudState?: string;
}

export type NodeENI = LedgerENI & ENIMeta;

const ms = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);
const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, (m) => (m === '.000Z' ? 'Z' : m));

export function toLedger(status: ENIPoolStatus | undefined): NodeENI[] {
  return (status?.enis ?? []).map((e): NodeENI => {
    const eni: NodeENI = {
      id: e.id,
      role: e.role,
      subnetId: e.subnetID ?? '',
      ready: e.cloudState === 'InUse',
      ips: (e.ips ?? []).map((ip): LedgerIP => ({
        address: ip.address,
        state: ip.state,
        primary: ip.address === e.primaryIP,
        since: ms(ip.since) ?? 0,
        ...(ip.podUID ? { podUID: ip.podUID } : {}),
        ...(ip.pod ? { pod: ip.pod } : {}),
        ...(ip.cooldownUntil ? { cooldownUntil: ms(ip.cooldownUntil)! } : {}),
      })),
      ...(e.podUID ? { podUID: e.podUID } : {}),
      ...(e.pod ? { pod: e.pod } : {}),
      ...(e.idleSince ? { idleSince: ms(e.idleSince)! } : {}),
      ...(e.cooldownUntil ? { cooldownUntil: ms(e.cooldownUntil)! } : {}),
      ...(e.mac ? { mac: e.mac } : {}),
      ...(e.subnetCIDR ? { subnetCIDR: e.subnetCIDR } : {}),
      ...(e.gateway ? { gateway: e.gateway } : {}),
      ...(e.deviceIndex !== undefined ? { deviceIndex: e.deviceIndex } : {}),
      ...(e.cloudState ? { cloudState: e.cloudState } : {}),
    };
    return eni;
  });
}

export function fromLedger(enis: NodeENI[]): PoolENI[] {
  return enis.map((e): PoolENI => ({
    id: e.id,
    role: e.role,
    subnetID: e.subnetId,
    ...(e.mac ? { mac: e.mac } : {}),
    ...(e.subnetCIDR ? { subnetCIDR: e.subnetCIDR } : {}),
    ...(e.gateway ? { gateway: e.gateway } : {}),
    ...(e.deviceIndex !== undefined ? { deviceIndex: e.deviceIndex } : {}),
    cloudState: e.ready ? 'InUse' : (e.cloudState ?? 'Attaching'),
    ...(e.ips.find((ip) => ip.primary) ? { primaryIP: e.ips.find((ip) => ip.primary)!.address } : {}),
    ...(e.podUID ? { podUID: e.podUID } : {}),
    ...(e.pod ? { pod: e.pod } : {}),
    ...(e.idleSince !== undefined ? { idleSince: iso(e.idleSince) } : {}),
    ...(e.cooldownUntil !== undefined ? { cooldownUntil: iso(e.cooldownUntil) } : {}),
    ips: e.ips.map((ip) => ({
      address: ip.address,
      state: ip.state,
      ...(ip.podUID ? { podUID: ip.podUID } : {}),
      ...(ip.pod ? { pod: ip.pod } : {}),
      since: iso(ip.since),
      ...(ip.cooldownUntil !== undefined ? { cooldownUntil: iso(ip.cooldownUntil) } : {}),
    })),
  }));
}

/** The counts shown by `kubectl get enipools`. */
export function statusCounts(enis: NodeENI[], usePrimaryIPs: boolean, now: number): { enis: number; freeIPs: number; assignedIPs: number; coolingIPs: number } {
  const c = count({ enis, usePrimaryIPs, now });
  return { enis: enis.length, freeIPs: c.free, assignedIPs: c.assigned, coolingIPs: c.cooling };
}
