// CNI result and configuration types (spec 1.0.0, plus the 1.1.0 additions marked).

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];
/** Commands about one attachment (containerID, ifName). */
export type AttachmentCommand = 'ADD' | 'DEL' | 'CHECK';

/** Versions this plugin speaks; STATUS and GC need 1.1.0. Nothing older: results differ before 1.0.0. */
export const SUPPORTED_VERSIONS = ['1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

export const PLUGIN_TYPE = 'eni-cni';
export const DEFAULT_AGENT_SOCKET = '/run/eni-operator/agent.sock';
/** Long enough for the agent's bounded wait for the pod's address; below kubelet's 2 min runtime timeout. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface CniInterface {
  name: string;
  mac?: string;
  /** Empty or absent for host-side interfaces; the CNI_NETNS path for container ones. */
  sandbox?: string;
  /** 1.1.0 */
  mtu?: number;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

export interface CniIPConfig {
  /** CIDR notation, e.g. "10.0.0.5/32". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  /** 1.1.0 */
  mtu?: number;
  /** 1.1.0 */
  advmss?: number;
  /** 1.1.0 */
  priority?: number;
  /** 1.1.0 */
  table?: number;
  /** 1.1.0: 0 global, 253 link, 254 host. */
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** The ADD success result. */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** What an agent handler returns for ADD: the result without cniVersion (stamped from the request). */
export type CniAddResult = Omit<CniResult, 'cniVersion'>;

/** The plugin configuration eni-cni reads from stdin, validated, defaults applied. */
export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: typeof PLUGIN_TYPE;
  /** Our field: the agent's unix socket. */
  agentSocket: string;
  /** Our field: how long the plugin waits for the agent's answer. */
  timeoutMs: number;
  /** Well-known field, passed to the agent as configured. */
  dns?: CniDns;
  /** Capability arguments the runtime inserted. */
  runtimeConfig?: Record<string, unknown>;
  /** Conventional `args` from the runtime (e.g. args.cni). */
  args?: Record<string, unknown>;
  /** The ADD result, on CHECK (required) and DEL (optional). */
  prevResult?: CniResult;
  /** GC only: the attachments that are still valid; absent when the runtime gave no list. */
  validAttachments?: GcAttachment[];
  /** Every field as received, for handlers that read keys this type does not model. */
  raw: Record<string, unknown>;
}

export interface GcAttachment {
  containerID: string;
  ifName: string;
}
