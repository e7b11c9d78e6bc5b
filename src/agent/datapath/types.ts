// Inputs, outputs and errors of the datapaths.
import type { Attachment } from '../../api/nodenetwork.js';
import { cidrContains, ipToInt, isIPv4, parseCidr } from '../../util/ipv4.js';
import { normalizeMac } from './names.js';
import type { CniInterface as CniInterfaceAny, CniIPConfig, CniRoute } from '../../cni/types.js';

export type DatapathErrorReason =
  /** The attachment or the CNI request is malformed: a bug upstream, never retried. */
  | 'InvalidRequest'
  /** No NIC with the ENI's MAC (yet): the hot-plug may still be in flight, retry later. */
  | 'ENINotFound'
  /** The pod's network namespace does not exist. */
  | 'NetnsNotFound'
  /** The kernel cannot create ipvlan links; the node must use the veth datapath. */
  | 'IPVlanUnsupported'
  /** Something not ours is in the way (e.g. ifName already exists in the pod). */
  | 'Conflict'
  /** iproute2 or a sysctl write failed. */
  | 'KernelError';

export class DatapathError extends Error {
  override readonly name = 'DatapathError';

  constructor(
    readonly reason: DatapathErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
  }

  /** Worth retrying the same request later (CNI code 11, "try again later"). */
  get retryable(): boolean {
    return this.reason === 'ENINotFound' || this.reason === 'KernelError';
  }
}

/** Where the runtime wants the pod's interface: CNI_NETNS and CNI_IFNAME (+ CNI_CONTAINERID). */
export interface PodSandbox {
  /** Path of the pod's network namespace, e.g. /run/netns/cni-1234 or /proc/<pid>/ns/net. */
  netns: string;
  ifName: string;
  containerID?: string;
}

/** What a DEL knows; everything but podUID is optional (DEL must succeed for unknown pods). */
export interface PodRef {
  podUID: string;
  netns?: string;
  ifName?: string;
  containerID?: string;
}

// The CNI 1.0.0 result the datapaths produce: the plugin's types (src/cni/types.ts),
// narrowed to what a datapath always sets.
export type { CniIPConfig, CniRoute } from '../../cni/types.js';
export type CniInterface = CniInterfaceAny & { mac: string };
export interface CniResult {
  cniVersion: '1.0.0';
  interfaces: CniInterface[];
  ips: CniIPConfig[];
  routes: CniRoute[];
  dns: Record<string, never>;
}

/** An Attachment checked and normalised once, so the datapaths can trust every field. */
export interface PodNetwork {
  podUID: string;
  mode: Attachment['mode'];
  podIP: string;
  prefix: number;
  /** The pod's subnet as a CIDR, e.g. 10.0.16.0/20. */
  subnet: string;
  gateway: string;
  eniMac: string;
  eniID: string;
  routes: { dst: string; via?: string }[];
}

const IFNAME_RE = /^[^\s/:]{1,15}$/;

function invalid(message: string): never {
  throw new DatapathError('InvalidRequest', message);
}

export function toPodNetwork(att: Attachment): PodNetwork {
  const who = `attachment for pod ${att.namespace}/${att.name}`;
  if (!att.podUID || /\s/.test(att.podUID)) invalid(`${who}: podUID must be non-empty without spaces`);
  const [ip, len] = att.ip.split('/');
  if (!ip || !isIPv4(ip) || len === undefined) invalid(`${who}: ip ${JSON.stringify(att.ip)} must be an IPv4 address with the subnet prefix, e.g. 10.0.16.5/20`);
  let subnet;
  try {
    subnet = parseCidr(att.ip);
  } catch {
    invalid(`${who}: ip ${JSON.stringify(att.ip)} is not a valid IPv4 CIDR`);
  }
  if (subnet.prefix > 30) invalid(`${who}: subnet prefix /${subnet.prefix} of ${att.ip} leaves no room for a gateway`);
  if (ipToInt(ip) === subnet.base || ipToInt(ip) === subnet.base + subnet.size - 1) invalid(`${who}: ${ip} is the network or broadcast address of ${subnet.text}`);
  if (!isIPv4(att.gateway) || !cidrContains(subnet, att.gateway)) invalid(`${who}: gateway ${JSON.stringify(att.gateway)} must be an IPv4 address inside ${subnet.text}`);
  if (att.gateway === ip) invalid(`${who}: gateway ${att.gateway} equals the pod address`);
  let eniMac: string;
  try {
    eniMac = normalizeMac(att.mac);
  } catch {
    invalid(`${who}: mac ${JSON.stringify(att.mac)} is not a MAC address`);
  }
  const routes = (att.routes ?? []).map((r) => {
    try {
      const dst = parseCidr(r.dst).text;
      if (r.via !== undefined && !isIPv4(r.via)) throw new Error();
      return r.via === undefined ? { dst } : { dst, via: r.via };
    } catch {
      invalid(`${who}: route ${JSON.stringify(r)} needs dst as an IPv4 CIDR and an optional IPv4 via`);
    }
  });
  return { podUID: att.podUID, mode: att.mode, podIP: ip, prefix: subnet.prefix, subnet: subnet.text, gateway: att.gateway, eniMac, eniID: att.eniID, routes };
}

export function validateSandbox(pod: PodSandbox): void {
  if (!pod.netns.startsWith('/') || /\s/.test(pod.netns)) invalid(`netns ${JSON.stringify(pod.netns)} must be an absolute path without spaces`);
  if (!IFNAME_RE.test(pod.ifName) || pod.ifName === '.' || pod.ifName === '..') invalid(`ifName ${JSON.stringify(pod.ifName)} must be 1-15 characters without spaces, '/' or ':'`);
}

export function validatePodRef(ref: PodRef): void {
  if (!ref.podUID || /\s/.test(ref.podUID)) invalid('DEL needs the pod UID (non-empty, without spaces)');
  if (ref.netns !== undefined && (!ref.netns.startsWith('/') || /\s/.test(ref.netns))) invalid(`netns ${JSON.stringify(ref.netns)} must be an absolute path without spaces`);
  if (ref.ifName !== undefined && !IFNAME_RE.test(ref.ifName)) invalid(`ifName ${JSON.stringify(ref.ifName)} must be 1-15 characters without spaces, '/' or ':'`);
}
