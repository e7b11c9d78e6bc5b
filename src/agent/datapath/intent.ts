// What a namespace must contain for one pod (its "intent"), and the diff of an
// intent against what the kernel holds. Pure: the datapaths, CHECK and the
// drift repair all use these, so they cannot disagree about what "right" is.
import type { Link, NetConf, Snapshot } from '../netlink/model.js';
import { TABLE_MAIN } from '../netlink/model.js';
import type { Action, AddressSpec, NeighbourSpec, ProxySpec, RouteSpec, RuleSpec, SysctlSpec } from './actions.js';
import { describeRoute, describeRule } from './actions.js';
import { OWNED_PROTOCOL, ownedRole } from './names.js';

export interface LinkIntent {
  dev: string;
  /** When missing, create it as an ipvlan slave of this parent (else it is a problem: only ADD can create it). */
  ipvlanParent?: string;
  /** Expected rtnl kind and MAC, checked when present. */
  kind?: string;
  mac?: string;
}

export interface NsIntent {
  /** Links that must exist and be up. */
  links: LinkIntent[];
  addresses: AddressSpec[];
  routes: RouteSpec[];
  rules: RuleSpec[];
  neighbours: NeighbourSpec[];
  proxies: ProxySpec[];
  /** ENI NICs: up, loose rp_filter, forwarding, immediate proxy-ARP replies. */
  enis: string[];
  /** Devices that must forward ("all" for the namespace-wide switch). */
  forwarding: string[];
  /** What cannot be expressed as objects, e.g. "ENI not found". */
  problems: string[];
}

export function emptyIntent(): NsIntent {
  return { links: [], addresses: [], routes: [], rules: [], neighbours: [], proxies: [], enis: [], forwarding: [], problems: [] };
}

export function routeKey(r: { table: number; dst: string }): string {
  return `${r.table} ${r.dst}`;
}
export function ruleKey(r: { priority: number; src?: string | undefined; dst?: string | undefined; table?: number | undefined }): string {
  return `${r.priority} ${r.src ?? 'all'} ${r.dst ?? 'all'} ${r.table ?? '-'}`;
}
export function selectorKey(r: { priority: number; src?: string | undefined; dst?: string | undefined }): string {
  return `${r.priority} ${r.src ?? 'all'} ${r.dst ?? 'all'}`;
}
export function proxyKey(p: { dst: string; dev: string }): string {
  return `${p.dst} ${p.dev}`;
}
export function addressKey(a: { dev: string; cidr: string }): string {
  return `${a.dev} ${a.cidr}`;
}

/** Lookups over a snapshot, built once per diff. */
export class SnapshotIndex {
  readonly links = new Map<string, Link>();
  readonly routes = new Map<string, Snapshot['routes']>();
  readonly rules = new Set<string>();
  readonly ruleSelectors = new Map<string, Snapshot['rules']>();
  readonly addresses = new Set<string>();
  readonly proxies = new Map<string, number>();
  readonly neighbours = new Map<string, Snapshot['neighbours'][number]>();
  readonly netconf = new Map<string, NetConf>();

  constructor(readonly snapshot: Snapshot) {
    for (const l of snapshot.links) this.links.set(l.name, l);
    for (const r of snapshot.routes) {
      if (r.type !== 1) continue;
      const key = routeKey(r);
      this.routes.set(key, [...(this.routes.get(key) ?? []), r]);
    }
    for (const r of snapshot.rules) {
      this.rules.add(ruleKey(r));
      const key = selectorKey(r);
      this.ruleSelectors.set(key, [...(this.ruleSelectors.get(key) ?? []), r]);
    }
    for (const a of snapshot.addresses) this.addresses.add(addressKey({ dev: a.dev, cidr: `${a.address}/${a.prefix}` }));
    for (const p of snapshot.proxies) this.proxies.set(proxyKey(p), p.protocol);
    for (const n of snapshot.neighbours) this.neighbours.set(`${n.dst} ${n.dev}`, n);
    for (const c of snapshot.netconf) this.netconf.set(c.dev, c);
  }

  /** The NIC carrying this MAC in the namespace, not counting ipvlan/macvlan slaves that share it. */
  linkByMac(mac: string): Link | undefined {
    return this.snapshot.links.find((l) => l.mac === mac && l.kind !== 'ipvlan' && l.kind !== 'macvlan' && ownedRole(l) === undefined);
  }
}

function routeMatches(have: Snapshot['routes'][number], want: RouteSpec): boolean {
  return have.dev === want.dev && have.gateway === want.gateway && have.protocol === OWNED_PROTOCOL;
}

export interface Diff {
  actions: Action[];
  problems: string[];
}

function eniSysctls(dev: string): SysctlSpec[] {
  return [
    { path: ['net', 'ipv4', 'conf', dev, 'rp_filter'], value: '2' },
    { path: ['net', 'ipv4', 'conf', dev, 'forwarding'], value: '1' },
    { path: ['net', 'ipv4', 'neigh', dev, 'proxy_delay'], value: '0' },
  ];
}

/**
 * Actions that bring the namespace to the intent, and the problems found (one
 * per wrong or missing object, plus the intent's own). Touches nothing the
 * intent does not mention, except rules that hold one of its rule selectors
 * with another table.
 */
export function diff(intent: NsIntent, index: SnapshotIndex): Diff {
  const actions: Action[] = [];
  const problems = [...intent.problems];
  const fix = (a: Action): void => {
    actions.push(a);
    problems.push(a.why);
  };
  const available = new Set<string>();
  const raised = new Set<string>();
  for (const want of intent.links) {
    const have = index.links.get(want.dev);
    if (!have) {
      if (want.ipvlanParent && index.links.has(want.ipvlanParent)) {
        fix({ kind: 'ipvlan-add', dev: want.dev, parent: want.ipvlanParent, why: `link ${want.dev} (ipvlan of ${want.ipvlanParent}) is missing` });
        actions.push({ kind: 'link-up', dev: want.dev, why: `link ${want.dev} is new` });
        available.add(want.dev);
        raised.add(want.dev);
      } else {
        problems.push(`link ${want.dev} is missing`);
      }
      continue;
    }
    available.add(want.dev);
    const wrongParent = want.ipvlanParent !== undefined && (have.kind !== 'ipvlan' || have.linkName !== want.ipvlanParent);
    if (wrongParent) {
      fix({ kind: 'link-delete', dev: want.dev, why: `link ${want.dev} is not an ipvlan slave of ${want.ipvlanParent}` });
      actions.push({ kind: 'ipvlan-add', dev: want.dev, parent: want.ipvlanParent!, why: 'recreate' }, { kind: 'link-up', dev: want.dev, why: 'recreate' });
      raised.add(want.dev);
      continue;
    }
    if (want.kind !== undefined && have.kind !== want.kind) problems.push(`link ${want.dev} is of kind ${have.kind ?? 'device'}, expected ${want.kind}`);
    if (want.mac !== undefined && have.mac !== want.mac) problems.push(`link ${want.dev} has MAC ${have.mac}, expected ${want.mac}`);
    if (!have.up) {
      fix({ kind: 'link-up', dev: want.dev, why: `link ${want.dev} is down` });
      raised.add(want.dev);
    }
  }
  for (const dev of intent.enis) {
    const have = index.links.get(dev);
    if (!have) continue;
    available.add(dev);
    const conf = index.netconf.get(dev);
    const down = !have.up && !raised.has(dev);
    if (down) {
      fix({ kind: 'link-up', dev, why: `ENI ${dev} is down` });
      raised.add(dev);
    }
    if (down || !conf || conf.rpFilter !== 2 || !conf.forwarding) {
      if (!down) problems.push(`ENI ${dev} lacks loose rp_filter or forwarding`);
      for (const sysctl of eniSysctls(dev)) actions.push({ kind: 'sysctl', sysctl, why: `ENI ${dev} settings` });
    }
  }
  for (const dev of intent.forwarding) {
    if (dev === 'all') {
      if (!index.netconf.get('all')?.forwarding) fix({ kind: 'sysctl', sysctl: { path: ['net', 'ipv4', 'ip_forward'], value: '1' }, why: 'IPv4 forwarding is off' });
      continue;
    }
    if (!available.has(dev)) continue;
    const forwarding = (index.netconf.get(dev) ?? index.netconf.get('default'))?.forwarding ?? false;
    if (!forwarding) fix({ kind: 'sysctl', sysctl: { path: ['net', 'ipv4', 'conf', dev, 'forwarding'], value: '1' }, why: `forwarding is off on ${dev}` });
  }
  const usable = (dev: string): boolean => available.has(dev) || index.links.has(dev);
  for (const address of intent.addresses) {
    if (!usable(address.dev)) continue;
    if (!index.addresses.has(addressKey(address))) fix({ kind: 'address-add', address, why: `address ${address.cidr} missing on ${address.dev}` });
  }
  for (const neighbour of intent.neighbours) {
    if (!usable(neighbour.dev)) continue;
    const have = index.neighbours.get(`${neighbour.dst} ${neighbour.dev}`);
    if (!have || !have.permanent || have.lladdr !== neighbour.lladdr) {
      fix({ kind: 'neighbour-replace', neighbour, why: `permanent neighbour ${neighbour.dst} → ${neighbour.lladdr} missing on ${neighbour.dev}` });
    }
  }
  for (const route of intent.routes) {
    if (!usable(route.dev)) continue;
    const have = index.routes.get(routeKey(route)) ?? [];
    if (!have.some((r) => routeMatches(r, route))) {
      const what = have.length === 0 ? 'missing' : 'wrong';
      fix({ kind: 'route-replace', route, why: `route ${describeRoute(route)} ${what}` });
    }
  }
  for (const rule of intent.rules) {
    if (index.rules.has(ruleKey(rule))) continue;
    for (const other of index.ruleSelectors.get(selectorKey(rule)) ?? []) {
      if (other.table === undefined) continue;
      const stale: RuleSpec = { priority: other.priority, table: other.table };
      if (other.src) stale.src = other.src;
      if (other.dst) stale.dst = other.dst;
      actions.push({ kind: 'rule-delete', rule: stale, why: `rule ${describeRule(stale)} replaced` });
    }
    fix({ kind: 'rule-add', rule, why: `rule ${describeRule(rule)} missing` });
  }
  for (const proxy of intent.proxies) {
    if (!usable(proxy.dev)) continue;
    if (index.proxies.get(proxyKey(proxy)) !== OWNED_PROTOCOL) fix({ kind: 'proxy-add', proxy, why: `proxy neighbour ${proxy.dst} missing on ${proxy.dev}` });
  }
  return { actions, problems };
}

/** Every object of the intent as an idempotent write, without reading first (fresh namespaces). */
export function writeAll(intent: NsIntent): Action[] {
  const actions: Action[] = [];
  for (const l of intent.links) actions.push({ kind: 'link-up', dev: l.dev, why: 'apply' });
  for (const address of intent.addresses) actions.push({ kind: 'address-add', address, why: 'apply' });
  for (const neighbour of intent.neighbours) actions.push({ kind: 'neighbour-replace', neighbour, why: 'apply' });
  for (const route of intent.routes) actions.push({ kind: 'route-replace', route, why: 'apply' });
  return actions;
}

export function mainRoute(dst: string, dev: string, gateway?: string): RouteSpec {
  return gateway ? { table: TABLE_MAIN, dst, dev, gateway } : { table: TABLE_MAIN, dst, dev, scope: 'link' };
}
