// Reconciling the ledger with what the cloud has. The cloud decides what
// exists (ENIs, addresses); the ledger decides who holds what. Pure.
import type { CloudENI } from '../cloud/types.js';
import type { ENIRole } from '../pool/types.js';
import type { NodeENI } from './codec.js';

export const TAGS = {
  cluster: 'eni-operator.io/cluster',
  node: 'eni-operator.io/node',
  role: 'eni-operator.io/role',
  creator: 'eni-operator.io/created-by',
} as const;

export function eniTags(clusterID: string, node: string, role: ENIRole): Record<string, string> {
  return { [TAGS.cluster]: clusterID, [TAGS.node]: node, [TAGS.role]: role, [TAGS.creator]: 'eni-operator' };
}

export interface SyncResult {
  enis: NodeENI[];
  /** ENIs the cloud has (ours by tag) that the ledger did not: adopted. */
  adopted: string[];
  /** Ledger ENIs the cloud no longer has. */
  vanished: string[];
  /** Pods whose address vanished with the cloud's copy: they must be given another. */
  orphanedPods: string[];
  /** Tagged ENIs of this node that are not attached: finish attaching or delete. */
  detached: CloudENI[];
}

/**
 * Merges the node's ENIs as the cloud lists them into the ledger. Addresses the
 * cloud added behind the ledger's back (a crash between a cloud call and the
 * ledger write) are adopted as free; addresses the ledger holds but the cloud
 * lost are dropped, and their pods reported.
 */
export function syncWithCloud(ledger: NodeENI[], cloudENIs: CloudENI[], now: number, subnetInfo: (id: string) => { cidr: string; gateway: string } | undefined): SyncResult {
  const result: SyncResult = { enis: [], adopted: [], vanished: [], orphanedPods: [], detached: [] };
  const byId = new Map(cloudENIs.filter((e) => !e.primary).map((e) => [e.id, e]));
  for (const eni of ledger) {
    const cloud = byId.get(eni.id);
    if (!cloud) {
      result.vanished.push(eni.id);
      if (eni.podUID) result.orphanedPods.push(eni.podUID);
      for (const ip of eni.ips) if (ip.podUID) result.orphanedPods.push(ip.podUID);
      continue;
    }
    byId.delete(eni.id);
    if (cloud.state !== 'InUse' && cloud.state !== 'Attaching') {
      // No longer on the instance (an interrupted create or delete, or a hand
      // on the console): it leaves the ledger, and its pods need new addresses.
      result.detached.push(cloud);
      if (eni.podUID) result.orphanedPods.push(eni.podUID);
      for (const ip of eni.ips) if (ip.podUID) result.orphanedPods.push(ip.podUID);
      continue;
    }
    const cloudIPs = new Set([cloud.primaryIP, ...cloud.secondaryIPs]);
    const kept = eni.ips.filter((ip) => {
      if (cloudIPs.has(ip.address)) return true;
      if (ip.podUID) result.orphanedPods.push(ip.podUID);
      return false;
    });
    const known = new Set(kept.map((ip) => ip.address));
    for (const address of cloudIPs) if (!known.has(address)) kept.push({ address, state: 'free', primary: address === cloud.primaryIP, since: now });
    for (const ip of kept) ip.primary = ip.address === cloud.primaryIP;
    result.enis.push(withCloudFacts({ ...eni, ips: kept }, cloud, subnetInfo));
  }
  for (const cloud of byId.values()) {
    if (cloud.state === 'InUse' || cloud.state === 'Attaching') {
      const role: ENIRole = cloud.tags[TAGS.role] === 'exclusive' ? 'exclusive' : 'shared';
      const ips = [cloud.primaryIP, ...cloud.secondaryIPs].map((address) => ({ address, state: 'free' as const, primary: address === cloud.primaryIP, since: now }));
      result.enis.push(withCloudFacts({ id: cloud.id, role, subnetId: cloud.subnetId, ready: false, ips, ...(role === 'exclusive' ? { idleSince: now } : {}) }, cloud, subnetInfo));
      result.adopted.push(cloud.id);
    } else {
      result.detached.push(cloud);
    }
  }
  return result;
}

function withCloudFacts(eni: NodeENI, cloud: CloudENI, subnetInfo: (id: string) => { cidr: string; gateway: string } | undefined): NodeENI {
  const subnet = subnetInfo(cloud.subnetId);
  return {
    ...eni,
    subnetId: cloud.subnetId,
    ready: cloud.state === 'InUse',
    mac: cloud.mac,
    cloudState: cloud.state,
    ...(cloud.deviceIndex !== undefined ? { deviceIndex: cloud.deviceIndex } : {}),
    ...(subnet ? { subnetCIDR: subnet.cidr, gateway: subnet.gateway } : {}),
  };
}
