// The per-node ledger as the pool arithmetic sees it: plain data, times in
// epoch milliseconds. The controller converts to and from ENIPool status.

export type IPState = 'free' | 'assigned' | 'cooldown';
export type ENIRole = 'shared' | 'exclusive';

export interface LedgerIP {
  address: string;
  state: IPState;
  /** The ENI's own primary address: it leaves only with the ENI. */
  primary: boolean;
  podUID?: string;
  /** namespace/name, for people reading the ledger. */
  pod?: string;
  /** When the IP entered its state (free since, assigned since, ...). */
  since: number;
  cooldownUntil?: number;
}

export interface LedgerENI {
  id: string;
  role: ENIRole;
  subnetId: string;
  /** Attached and usable (the cloud says InUse). */
  ready: boolean;
  ips: LedgerIP[];
  /** Exclusive ENIs: the pod that owns it. */
  podUID?: string;
  pod?: string;
  /** Exclusive ENIs: free since, and resting until. */
  idleSince?: number;
  cooldownUntil?: number;
}

/** Both include the primary: the instance's ENI and each ENI's primary IP. */
export interface Limits {
  maxENIs: number;
  ipsPerENI: number;
}

export interface Targets {
  minIPs: number;
  warmIPs: number;
  maxIdleIPs: number;
  maxIPs: number;
  cooldownMs: number;
  reclaimAfterMs: number;
  /** IPs per assign call (≤ 10). */
  batchSize: number;
  /** Spare exclusive ENIs kept attached. */
  warmENIs: number;
}

export interface SubnetInfo {
  id: string;
  availableIPs: number;
  /** The cloud said this subnet is exhausted; skip it until then. */
  exhaustedUntil?: number;
}

export interface PoolView {
  limits: Limits;
  targets: Targets;
  /** Secondary ENIs only: the instance's primary ENI is never in the pool. */
  enis: LedgerENI[];
  /** Subnets of the node's zone that the NetworkMode allows. */
  subnets: SubnetInfo[];
  /** Bound shared pods still without an IP. */
  pendingShared: number;
  /** Bound exclusive pods still without an ENI. */
  pendingExclusive: number;
  /** Whether pods may use an ENI's own primary address (veth: yes). */
  usePrimaryIPs: boolean;
  now: number;
}
