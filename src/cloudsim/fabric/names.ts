// Names of everything the VPC fabric creates in the kernel. Pure.
//
// Only network namespaces live in the shared (root) view, so only they carry
// the per-emulator prefix: `<prefix>-r` is the router, `<prefix>-n-<instance>`
// a node. Links are created directly inside those namespaces (a veth's two
// ends are born in their target namespaces), so their names never meet
// another emulator's and stay well inside the kernel's 15-character limit.
import { createHash } from 'node:crypto';

/** Longest link name the kernel accepts (IFNAMSIZ - 1). */
export const MAX_LINK_NAME = 15;

/**
 * A prefix is short lowercase letters and digits, starting with a letter.
 * No dash, so `a-...` can never be mistaken for another emulator's `a-n-...`.
 */
const PREFIX = /^[a-z][a-z0-9]{0,11}$/;

export function validatePrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new Error(`fabric prefix "${prefix}": must be 1-12 lowercase letters or digits, starting with a letter (e.g. "sim1")`);
  }
  return prefix;
}

function hash(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

export function routerNamespace(prefix: string): string {
  return `${prefix}-r`;
}

/** Instance IDs are used as they are when they make a safe file name; odd ones are hashed. */
export function nodeNamespace(prefix: string, instanceId: string): string {
  const safe = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(instanceId) ? instanceId : `h${hash(instanceId, 16)}`;
  return `${prefix}-n-${safe}`;
}

/** Whether a namespace name belongs to the emulator with this prefix. */
export function ownsName(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}-`);
}

/** The router's bridge of one subnet: stable across restarts, so a sweep and a restart agree. */
export function bridgeName(subnetId: string): string {
  return `br${hash(`subnet:${subnetId}`, 8)}`;
}

/**
 * The bridge's own MAC, fixed: a bridge otherwise takes its lowest port's MAC,
 * which would change the gateway's MAC under the nodes as NICs come and go.
 * Locally administered (02:...), so it never equals an ENI's cloud MAC.
 */
export function bridgeMac(subnetId: string): string {
  const h = hash(`mac:${subnetId}`, 10);
  return `02:${h.match(/../g)!.join(':')}`;
}

function macHex(mac: string): string {
  const hex = mac.toLowerCase().replaceAll(':', '');
  if (!/^[0-9a-f]{12}$/.test(hex)) throw new Error(`not a MAC address: ${mac}`);
  return hex;
}

/** The router-side end (bridge port) of an ENI's NIC: from the MAC, unique in a world. */
export function portName(mac: string): string {
  return `v${macHex(mac)}`;
}

/** The node-side name of a NIC, as a VM names its NIC in slot `deviceIndex`. */
export function nicName(deviceIndex: number): string {
  return `eth${deviceIndex}`;
}

/** The name used when a consumer already took `eth<deviceIndex>` in the node (consumers find NICs by MAC anyway). */
export function fallbackNicName(mac: string): string {
  return `e${macHex(mac)}`;
}
