// What the pool needs from a cloud, in provider-neutral terms. Each provider
// (alibaba/, tencent/) implements CloudProvider on its official SDK.
import type { ProviderType } from '../api/common.js';

/**
 * ENI states, normalised. Tencent's PENDING (still being created) is Pending;
 * Alibaba's CreateNetworkInterface answers once the ENI is Available.
 */
export type ENIState = 'Pending' | 'Available' | 'Attaching' | 'InUse' | 'Detaching' | 'Deleting';

export interface CloudENI {
  id: string;
  mac: string;
  subnetId: string;
  vpcId: string;
  zone?: string;
  instanceId?: string;
  deviceIndex?: number;
  state: ENIState;
  /** The instance's own (primary) ENI, never used for pods. */
  primary: boolean;
  primaryIP: string;
  secondaryIPs: string[];
  securityGroupIds: string[];
  tags: Record<string, string>;
  createdAt?: string;
}

export interface CloudInstance {
  id: string;
  type: string;
  zone: string;
  vpcId: string;
  subnetId: string;
  primaryIP: string;
  state: string;
}

/** Both counts include the primary: the primary ENI, and each ENI's primary IP. */
export interface InstanceLimits {
  maxENIs: number;
  ipsPerENI: number;
}

export interface CloudSubnet {
  id: string;
  zone: string;
  vpcId: string;
  cidr: string;
  availableIPs: number;
}

export interface CreateENIRequest {
  subnetId: string;
  securityGroupIds: string[];
  /** Secondary IPs to assign at creation (≤ 10). */
  secondaryIPCount?: number;
  tags: Record<string, string>;
  name?: string;
  description?: string;
  /**
   * Identifies this logical creation: reused as the ClientToken on every retry,
   * so a lost response never creates a second ENI.
   */
  idempotencyKey: string;
}

export interface ENIFilter {
  instanceId?: string;
  /** Every pair must match. */
  tags?: Record<string, string>;
  ids?: string[];
  subnetId?: string;
}

/** Most IPs one assign/unassign call may carry on either cloud. */
export const MAX_IPS_PER_CALL = 10;

export interface CloudProvider {
  readonly type: ProviderType;
  readonly region: string;
  describeInstance(instanceId: string): Promise<CloudInstance>;
  /** ENI and IP limits of the instance (from its type). */
  instanceLimits(instance: { id: string; type: string }): Promise<InstanceLimits>;
  /** The given subnets with their free-IP counts. Unknown IDs are left out. */
  describeSubnets(ids: string[]): Promise<CloudSubnet[]>;
  /** Creates an ENI; resolves once it is Available. */
  createENI(req: CreateENIRequest): Promise<CloudENI>;
  /** Attaches; resolves once the cloud reports it InUse. */
  attachENI(eniId: string, instanceId: string): Promise<CloudENI>;
  /** Detaches; resolves once Available. An ENI already detached counts as done. */
  detachENI(eniId: string, instanceId: string): Promise<void>;
  /** Deletes; resolves once gone. An ENI already gone counts as done. */
  deleteENI(eniId: string): Promise<void>;
  /**
   * Assigns `count` secondary IPs, in calls of at most MAX_IPS_PER_CALL, each
   * with a ClientToken derived from `idempotencyKey`. Resolves with the new addresses.
   */
  assignIPs(eniId: string, count: number, idempotencyKey: string): Promise<string[]>;
  /** Unassigns, in batches; addresses already unassigned count as done. */
  unassignIPs(eniId: string, ips: string[]): Promise<void>;
  /** Every ENI matching the filter, across all pages. */
  listENIs(filter: ENIFilter): Promise<CloudENI[]>;
}
