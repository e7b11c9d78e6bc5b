// Everything by which the agent recognises kernel objects as its own, and the
// deterministic names/numbers it derives. Changing any of these orphans what
// older agents created, so they are part of the node's on-disk contract.
import { createHash } from 'node:crypto';
import type { Link } from '../netlink/model.js';

/** rtnetlink protocol stamped on every route, rule and proxy neighbour the agent adds. */
export const OWNED_PROTOCOL = 229;

/**
 * Per-ENI routing table: TABLE_BASE + the ENI NIC's ifindex. The ifindex is
 * unique in the node namespace for as long as the NIC exists, so tables never
 * collide, and it is re-derived from the kernel after an agent restart. Every
 * table in [TABLE_BASE, TABLE_LIMIT) belongs to the agent.
 */
export const TABLE_BASE = 10_000;
export const TABLE_LIMIT = TABLE_BASE + 2 ** 31;

/** `to <podIP> lookup main`: replies and node traffic to a pod bypass the ENI tables. */
export const RULE_TO_POD_PRIORITY = 2000;
/** `from <podIP> lookup <ENI table>`: the pod's traffic leaves through its own ENI. */
export const RULE_FROM_POD_PRIORITY = 2100;
export const OWNED_RULE_PRIORITIES: ReadonlySet<number> = new Set([RULE_TO_POD_PRIORITY, RULE_FROM_POD_PRIORITY]);

/** Next hop of veth pods; answered by a permanent neighbour entry, never by ARP. */
export const LINK_LOCAL_GATEWAY = '169.254.1.1';

/** Host-side link name prefixes: veth pod, exclusive pod's host veth, per-ENI host ipvlan slave. */
export const PREFIX_VETH = 'eop';
export const PREFIX_EXCLUSIVE = 'eox';
export const PREFIX_IPVLAN_HOST = 'eoi';
/** Transient name of a pod's ipvlan slave between its creation and its rename to ifName in the pod. */
export const PREFIX_IPVLAN_TEMP = 'eot';
/** Name an exclusive ENI gets back when its original name is taken: `eni` + MAC hex. */
export const PREFIX_RETURNED_ENI = 'eni';

/** Alias written on an exclusive ENI while a pod holds it; it travels with the NIC across namespaces. */
export const EXCLUSIVE_ALIAS_PREFIX = 'eni-operator exclusive';

export type OwnedRole = 'veth' | 'exclusive' | 'ipvlan-host';

const HEX12 = /^[0-9a-f]{12}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function digest(label: string, value: string): Buffer {
  return createHash('sha256').update(`${label}\0${value}`).digest();
}

function podHash(podUID: string): string {
  return digest('link', podUID).toString('hex').slice(0, 12);
}

export function normalizeMac(mac: string): string {
  const m = mac.trim().toLowerCase().replaceAll('-', ':');
  if (!MAC_RE.test(m)) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return m;
}

/** Host end of a veth pod's pair: `eop` + 12 hex of sha256(podUID) — 15 chars, the kernel's limit. */
export function vethHostName(podUID: string): string {
  return PREFIX_VETH + podHash(podUID);
}

/** Host end of an exclusive pod's node-traffic veth. */
export function exclusiveHostName(podUID: string): string {
  return PREFIX_EXCLUSIVE + podHash(podUID);
}

/** The node's ipvlan slave of an ENI, through which the node reaches that ENI's ipvlan pods. */
export function ipvlanHostName(eniMac: string): string {
  return PREFIX_IPVLAN_HOST + normalizeMac(eniMac).replaceAll(':', '');
}

/**
 * The kernel checks a new link's name in the namespace that creates it even when
 * the link is born in another one, so a pod's ipvlan slave cannot be created as
 * "eth0" while the node has an eth0: it is created under this name and renamed.
 */
export function ipvlanTempName(podUID: string): string {
  return PREFIX_IPVLAN_TEMP + podHash(podUID);
}

export function returnedEniName(eniMac: string): string {
  return PREFIX_RETURNED_ENI + normalizeMac(eniMac).replaceAll(':', '');
}

/** Pod end of the exclusive pod's host veth, beside the ENI named ifName. */
export function exclusivePodVethName(ifName: string): string {
  return ifName === 'veth1' ? 'veth2' : 'veth1';
}

/** Locally administered unicast MAC derived from a label and the pod UID (stable across ADDs). */
export function derivedMac(label: 'veth-host' | 'veth-pod' | 'exclusive-host' | 'exclusive-pod', podUID: string): string {
  const d = digest(label, podUID);
  d[0] = (d[0]! & 0xfc) | 0x02;
  return [...d.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function eniTable(eniIfindex: number): number {
  if (!Number.isInteger(eniIfindex) || eniIfindex < 1 || eniIfindex >= 2 ** 31) throw new Error(`bad ifindex ${eniIfindex}`);
  return TABLE_BASE + eniIfindex;
}

export function isOwnedTable(table: number | undefined): boolean {
  return table !== undefined && table >= TABLE_BASE && table < TABLE_LIMIT;
}

/** Which of the agent's link kinds this is, by name pattern and rtnl kind together. */
export function ownedRole(link: Pick<Link, 'name' | 'kind'>): OwnedRole | undefined {
  const prefix = link.name.slice(0, 3);
  if (!HEX12.test(link.name.slice(3))) return undefined;
  if (prefix === PREFIX_VETH && link.kind === 'veth') return 'veth';
  if (prefix === PREFIX_EXCLUSIVE && link.kind === 'veth') return 'exclusive';
  if (prefix === PREFIX_IPVLAN_HOST && link.kind === 'ipvlan') return 'ipvlan-host';
  return undefined;
}

export function exclusiveAlias(podUID: string, originalName: string): string {
  return `${EXCLUSIVE_ALIAS_PREFIX} pod=${podUID} orig=${originalName}`;
}

export function parseExclusiveAlias(alias: string | undefined): { podUID: string; originalName: string } | undefined {
  if (!alias?.startsWith(EXCLUSIVE_ALIAS_PREFIX + ' ')) return undefined;
  const m = /^pod=(\S+) orig=(\S+)$/.exec(alias.slice(EXCLUSIVE_ALIAS_PREFIX.length + 1));
  return m ? { podUID: m[1]!, originalName: m[2]! } : undefined;
}

/** Alias on a pod's host veth: whose it is and for which sandbox, so a late DEL of an older sandbox leaves a newer one alone. */
export function podLinkAlias(podUID: string, containerID: string | undefined): string {
  return `eni-operator pod=${podUID} container=${containerID ?? '-'}`;
}

export function parsePodLinkAlias(alias: string | undefined): { podUID: string; containerID: string | undefined } | undefined {
  const m = /^eni-operator pod=(\S+) container=(\S+)$/.exec(alias ?? '');
  return m ? { podUID: m[1]!, containerID: m[2] === '-' ? undefined : m[2] } : undefined;
}
