// What a node's network namespace holds, read with `ip -j` independently of
// the agent's own netlink reader, and the objects the agent must (and must
// not) have there for a set of attachments.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Attachment } from '../../src/api/nodenetwork.js';
import { exclusiveHostName, EXCLUSIVE_ALIAS_PREFIX, RULE_FROM_POD_PRIORITY, RULE_TO_POD_PRIORITY, vethHostName } from '../../src/agent/datapath/names.js';

const execFileP = promisify(execFile);

export interface IpLink {
  ifindex: number;
  ifname: string;
  address: string;
  flags: string[];
  ifalias?: string;
  linkinfo?: { info_kind?: string };
}
export interface IpRule {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table: string;
  protocol?: string;
}
export interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  table?: string;
  type?: string;
  protocol?: string;
}
export interface IpNeighbour {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
  protocol?: string;
}
export interface IpAddress {
  ifname: string;
  addr_info: { local: string; prefixlen: number }[];
}

export interface Inventory {
  links: IpLink[];
  addresses: IpAddress[];
  rules: IpRule[];
  routes: IpRoute[];
  neighbours: IpNeighbour[];
  proxies: IpNeighbour[];
}

async function ipJson<T>(netns: string, args: string[]): Promise<T> {
  const { stdout } = await execFileP('ip', ['-n', netns, '-j', ...args]);
  return JSON.parse(stdout || '[]') as T;
}

export async function readInventory(netns: string): Promise<Inventory> {
  const [links, addresses, rules, routes, neighbours, proxies] = await Promise.all([
    ipJson<IpLink[]>(netns, ['-d', 'link', 'show']),
    ipJson<IpAddress[]>(netns, ['-4', 'addr', 'show']),
    ipJson<IpRule[]>(netns, ['-4', 'rule', 'show']),
    ipJson<IpRoute[]>(netns, ['-4', 'route', 'show', 'table', 'all']),
    ipJson<IpNeighbour[]>(netns, ['-4', 'neigh', 'show']),
    ipJson<IpNeighbour[]>(netns, ['-4', 'neigh', 'show', 'proxy']),
  ]);
  return { links, addresses, rules, routes, neighbours, proxies };
}

/** `ip -j` writes a /32 without its length. */
const host = (dst: string | undefined, len?: number) => (dst === undefined || dst === 'all' ? undefined : dst.includes('/') || dst === 'default' ? dst : `${dst}/${len ?? 32}`);

export const ruleText = (r: IpRule) => `rule ${r.priority}: from ${host(r.src, r.srclen) ?? 'all'} to ${host(r.dst, r.dstlen) ?? 'all'} lookup ${r.table}`;
export const routeText = (r: IpRoute) => `route ${host(r.dst) ?? r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev ?? '-'} table ${r.table ?? 'main'}`;
export const proxyText = (p: IpNeighbour) => `proxy ${p.dst} dev ${p.dev}`;

const OWNED_LINK = /^eo[pxi][0-9a-f]{12}$/;

/**
 * The agent's objects in a node namespace, as comparable lines: its links
 * (eop/eox/eoi + 12 hex), rules at its priorities, /32 routes in main through
 * its links or stamped with its protocol, every route of its per-ENI tables
 * (≥ 10000), proxy neighbours. Per-ENI tables are named by the ENI (MAC), not
 * by number, so that expected and observed compare.
 */
export function agentObjects(inv: Inventory): string[] {
  const byName = new Map(inv.links.map((l) => [l.ifname, l]));
  const byIndex = new Map(inv.links.map((l) => [l.ifindex, l]));
  const table = (t: string | undefined) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 10_000) return t ?? 'main';
    return `eni(${byIndex.get(n - 10_000)?.address ?? `gone ifindex ${n - 10_000}`})`;
  };
  const out: string[] = [];
  for (const l of inv.links) if (OWNED_LINK.test(l.ifname)) out.push(`link ${l.ifname}`);
  for (const r of inv.rules) if (r.priority === RULE_TO_POD_PRIORITY || r.priority === RULE_FROM_POD_PRIORITY || r.protocol === '229') out.push(ruleText({ ...r, table: table(r.table) }));
  for (const r of inv.routes) {
    if (r.type && r.type !== 'unicast') continue;
    const inOwnedTable = Number(r.table) >= 10_000;
    const ownedInMain = (r.table ?? 'main') === 'main' && (r.protocol === '229' || OWNED_LINK.test(r.dev ?? ''));
    if (inOwnedTable || ownedInMain) out.push(routeText({ ...r, table: table(r.table) }) + (r.dev && byName.get(r.dev) ? '' : ' (no such link)'));
  }
  for (const p of inv.proxies) out.push(proxyText(p));
  return out.sort();
}

/** What agentObjects must be for these attachments (the node's live pods); ENI devices by MAC. */
export function expectedObjects(attachments: readonly Attachment[], inv: Inventory): string[] {
  const byMac = new Map(inv.links.map((l) => [l.address, l]));
  const out = new Set<string>();
  for (const a of attachments) {
    const ip = a.ip.split('/')[0]!;
    if (a.mode === 'exclusive') {
      out.add(`link ${exclusiveHostName(a.podUID)}`);
      out.add(`route ${ip}/32 dev ${exclusiveHostName(a.podUID)} table main`);
      continue;
    }
    const dev = vethHostName(a.podUID);
    const mac = a.mac.toLowerCase();
    const eni = byMac.get(mac);
    const t = `eni(${mac})`;
    const gw = a.gateway;
    out.add(`link ${dev}`);
    out.add(`route ${ip}/32 dev ${dev} table main`);
    out.add(`rule ${RULE_TO_POD_PRIORITY}: from all to ${ip}/32 lookup main`);
    out.add(`rule ${RULE_FROM_POD_PRIORITY}: from ${ip}/32 to all lookup ${t}`);
    out.add(`proxy ${ip} dev ${eni?.ifname ?? `<ENI ${mac} missing>`}`);
    out.add(`route ${gw}/32 dev ${eni?.ifname ?? '?'} table ${t}`);
    out.add(`route default via ${gw} dev ${eni?.ifname ?? '?'} table ${t}`);
    for (const r of a.routes ?? []) out.add(`route ${r.dst} via ${r.via ?? gw} dev ${eni?.ifname ?? '?'} table ${t}`);
  }
  return [...out].sort();
}

/** Everything in the namespace that still mentions one of `ips` (as a /32 or a neighbour), by an owner other than the kernel's ARP. */
export function mentionsOf(inv: Inventory, ips: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const bare = (d: string | undefined) => d?.replace(/\/32$/, '');
  for (const r of inv.rules) if (ips.has(bare(r.src) ?? '') || ips.has(bare(r.dst) ?? '')) out.push(ruleText(r));
  for (const r of inv.routes) if (r.type !== 'local' && r.type !== 'broadcast' && ips.has(bare(r.dst) ?? '')) out.push(routeText(r));
  for (const p of inv.proxies) if (ips.has(p.dst)) out.push(proxyText(p));
  // A neighbour the kernel learnt by ARP on the primary NIC may linger (reachable/stale/failed); a
  // permanent or protocol-stamped one is someone's configuration.
  for (const n of inv.neighbours) if (ips.has(n.dst) && (n.state?.includes('PERMANENT') || n.protocol)) out.push(`neighbour ${n.dst} dev ${n.dev} ${n.state?.join(',') ?? ''}`);
  return out;
}

export function isExclusiveMarked(link: IpLink): boolean {
  return link.ifalias?.startsWith(EXCLUSIVE_ALIAS_PREFIX) ?? false;
}

export function ipv4Of(inv: Inventory, ifname: string): string[] {
  return inv.addresses.filter((a) => a.ifname === ifname).flatMap((a) => a.addr_info.map((i) => `${i.local}/${i.prefixlen}`));
}
