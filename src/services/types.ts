// The boundary between the Service compiler (Services + EndpointSlices + this
// node → a ServiceTable, pure) and the eBPF loader (ServiceTable → map entries
// in the kernel). The table holds no map ids: backend ids, reverse-NAT ids and
// slot numbers are the loader's business, because only it can keep them
// stable across restarts by reading back the pinned maps.
//
// A table is always whole: the compiler is asked again after any change and
// the loader works out what changed. Order carries no meaning.

export type L4Proto = 'TCP' | 'UDP';

export interface BackendAddr {
  ip: string;
  port: number;
  /**
   * The endpoint is terminating but still serving: present only when a
   * frontend had no ready endpoint and fell back to these (kube-proxy's rule).
   */
  terminating?: boolean;
}

/** How a client reaches the Service at this frontend. */
export type FrontendKind = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancerIP';

export interface Frontend {
  /** The address clients dial: a ClusterIP, one of this node's addresses (NodePort), an external IP. */
  ip: string;
  port: number;
  proto: L4Proto;
  kind: FrontendKind;
  /**
   * Where connections made on this node (its pods and its host processes:
   * the socket path) go. Already filtered by internalTrafficPolicy. Empty:
   * the Service has no usable endpoint and a connection is refused at once.
   */
  backends: BackendAddr[];
  /**
   * NodePort / ExternalIP / LoadBalancerIP only: where traffic that arrives
   * from other nodes or from outside (the per-packet tc path) goes. Differs
   * from `backends` when externalTrafficPolicy is Local (this node's
   * endpoints only). Absent for ClusterIP frontends, which are not served to
   * traffic from outside.
   */
  externalBackends?: BackendAddr[];
  /** sessionAffinity ClientIP: seconds a client keeps its backend; 0 = no affinity. */
  affinityTimeoutSec: number;
  /** The Service port this frontend serves, for status, Events and metrics. */
  service: { namespace: string; name: string; port: string };
}

export interface ServiceTable {
  frontends: Frontend[];
}

/** The key that names one frontend in a table (and in the loader's maps). */
export function frontendKey(f: Pick<Frontend, 'ip' | 'port' | 'proto'>): string {
  return `${f.proto}/${f.ip}:${f.port}`;
}

/** A frontend the loader could not program, and why (map full, bad address, ...). */
export interface RejectedFrontend {
  key: string;
  reason: string;
}

export interface ApplyResult {
  /** The generation the kernel's maps now hold. */
  generation: number;
  /** Frontends programmed and serving. */
  frontends: number;
  backends: number;
  /**
   * Frontends left out whole (never half-programmed): the agent reports each
   * on its Service and in NodeNetwork status. Their old entries are removed too,
   * so a Service that stopped fitting fails closed, not stale.
   */
  rejected: RejectedFrontend[];
}

/**
 * What the agent drives: the eBPF loader, or nothing when the feature is off.
 * `apply` resolves once the kernel holds `table` (acked by the helper), so
 * "removal acked" means no new connection reaches a removed backend.
 */
export interface ServiceLoader {
  apply(table: ServiceTable, generation: number): Promise<ApplyResult>;
}
