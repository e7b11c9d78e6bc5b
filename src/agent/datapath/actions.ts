// Kernel objects the datapath wants, the changes that bring a namespace there,
// and their `ip -batch` spelling. Pure.
import { OWNED_PROTOCOL } from './names.js';

export interface RouteSpec {
  table: number;
  dst: string;
  dev: string;
  gateway?: string;
  /** 'link' for on-link destinations (no gateway). */
  scope?: 'link';
  onlink?: boolean;
}

export interface RuleSpec {
  priority: number;
  src?: string;
  dst?: string;
  table: number;
}

export interface AddressSpec {
  dev: string;
  /** address/prefix */
  cidr: string;
  /** Do not add the prefix route (host copies of node addresses). */
  noPrefixRoute?: boolean;
}

export interface NeighbourSpec {
  dst: string;
  dev: string;
  lladdr: string;
}

export interface ProxySpec {
  dst: string;
  dev: string;
}

export interface SysctlSpec {
  path: string[];
  value: string;
}

export type Action =
  | { kind: 'link-up'; dev: string; why: string }
  | { kind: 'link-delete'; dev: string; why: string }
  | { kind: 'ipvlan-add'; dev: string; parent: string; why: string }
  /** Give an exclusive ENI found in the node namespace back its pool state: down, no alias, its name. */
  | { kind: 'eni-release'; dev: string; name: string; why: string }
  | { kind: 'address-add'; address: AddressSpec; why: string }
  | { kind: 'address-delete'; address: AddressSpec; why: string }
  | { kind: 'route-replace'; route: RouteSpec; why: string }
  | { kind: 'route-delete'; route: RouteSpec; why: string }
  | { kind: 'rule-add'; rule: RuleSpec; why: string }
  | { kind: 'rule-delete'; rule: RuleSpec; why: string }
  | { kind: 'neighbour-replace'; neighbour: NeighbourSpec; why: string }
  | { kind: 'proxy-add'; proxy: ProxySpec; why: string }
  | { kind: 'proxy-delete'; proxy: ProxySpec; why: string }
  | { kind: 'sysctl'; sysctl: SysctlSpec; why: string };

export function describeRoute(r: RouteSpec): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.table === 254 ? '' : ` table ${r.table}`}`;
}

export function describeRule(r: RuleSpec): string {
  return `${r.priority}: from ${r.src ?? 'all'}${r.dst ? ` to ${r.dst}` : ''} lookup ${r.table}`;
}

function routeLine(verb: 'replace' | 'del', r: RouteSpec): string {
  const parts = ['route', verb, r.dst];
  if (r.gateway) parts.push('via', r.gateway);
  parts.push('dev', r.dev);
  if (verb === 'replace') {
    if (r.scope) parts.push('scope', r.scope);
    if (r.onlink) parts.push('onlink');
    parts.push('proto', String(OWNED_PROTOCOL));
  }
  parts.push('table', String(r.table));
  return parts.join(' ');
}

function ruleLine(verb: 'add' | 'del', r: RuleSpec): string {
  const parts = ['rule', verb, 'priority', String(r.priority)];
  if (r.src) parts.push('from', r.src);
  if (r.dst) parts.push('to', r.dst);
  parts.push('lookup', String(r.table));
  if (verb === 'add') parts.push('protocol', String(OWNED_PROTOCOL));
  return parts.join(' ');
}

/** Deletions before creations; links exist before what refers to them; gateways before defaults. */
const ORDER: Record<Action['kind'], number> = {
  'rule-delete': 0,
  'proxy-delete': 1,
  'route-delete': 2,
  'address-delete': 3,
  'link-delete': 4,
  'eni-release': 5,
  'ipvlan-add': 6,
  'link-up': 7,
  'address-add': 8,
  'neighbour-replace': 9,
  'route-replace': 10,
  'rule-add': 11,
  'proxy-add': 12,
  sysctl: 13,
};

function routeRank(a: Action): number {
  // On-link routes (e.g. the gateway /32) must precede routes via that gateway.
  return a.kind === 'route-replace' && !a.route.gateway ? 0 : 1;
}

export function sortActions(actions: readonly Action[]): Action[] {
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => ORDER[x.a.kind] - ORDER[y.a.kind] || routeRank(x.a) - routeRank(y.a) || x.i - y.i)
    .map((x) => x.a);
}

/** One `ip -batch` line per action (sysctls are not ip commands and are returned apart). */
export function renderActions(actions: readonly Action[]): { lines: string[]; sysctls: SysctlSpec[] } {
  const lines: string[] = [];
  const sysctls: SysctlSpec[] = [];
  for (const a of sortActions(actions)) {
    switch (a.kind) {
      case 'link-up':
        lines.push(`link set dev ${a.dev} up`);
        break;
      case 'link-delete':
        lines.push(`link del dev ${a.dev}`);
        break;
      case 'ipvlan-add':
        lines.push(`link add link ${a.parent} name ${a.dev} type ipvlan mode l2`);
        break;
      case 'eni-release':
        lines.push(`link set dev ${a.dev} down`, `address flush dev ${a.dev}`, `link set dev ${a.dev} alias ""`);
        if (a.name !== a.dev) lines.push(`link set dev ${a.dev} name ${a.name}`);
        break;
      case 'address-add':
        lines.push(`address replace ${a.address.cidr} dev ${a.address.dev}${a.address.noPrefixRoute ? ' noprefixroute' : ''}`);
        break;
      case 'address-delete':
        lines.push(`address del ${a.address.cidr} dev ${a.address.dev}`);
        break;
      case 'route-replace':
        lines.push(routeLine('replace', a.route));
        break;
      case 'route-delete':
        lines.push(routeLine('del', a.route));
        break;
      case 'rule-add':
        lines.push(ruleLine('add', a.rule));
        break;
      case 'rule-delete':
        lines.push(ruleLine('del', a.rule));
        break;
      case 'neighbour-replace':
        lines.push(`neighbour replace ${a.neighbour.dst} lladdr ${a.neighbour.lladdr} dev ${a.neighbour.dev} nud permanent`);
        break;
      case 'proxy-add':
        lines.push(`neighbour replace proxy ${a.proxy.dst} dev ${a.proxy.dev} protocol ${OWNED_PROTOCOL}`);
        break;
      case 'proxy-delete':
        lines.push(`neighbour del proxy ${a.proxy.dst} dev ${a.proxy.dev}`);
        break;
      case 'sysctl':
        sysctls.push(a.sysctl);
        break;
    }
  }
  return { lines, sysctls };
}
