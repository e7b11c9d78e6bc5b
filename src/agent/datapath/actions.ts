// Kernel objects the datapath wants, the changes that bring a namespace there,
// and the netlink steps that make them (the eni-exec helper's). Pure.
import type { Step } from '../netlink/steps.js';
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

function routeStep(verb: 'replace' | 'delete', r: RouteSpec): Step {
  if (verb === 'delete') return { do: 'route-delete', table: r.table, dst: r.dst, dev: r.dev, ...(r.gateway ? { gateway: r.gateway } : {}) };
  return {
    do: 'route-replace',
    table: r.table,
    dst: r.dst,
    dev: r.dev,
    ...(r.gateway ? { gateway: r.gateway } : {}),
    ...(r.scope ? { scope: r.scope } : {}),
    ...(r.onlink ? { onlink: true } : {}),
    protocol: OWNED_PROTOCOL,
  };
}

function ruleSelector(r: RuleSpec): { priority: number; table: number; src?: string; dst?: string } {
  return { priority: r.priority, ...(r.src ? { src: r.src } : {}), ...(r.dst ? { dst: r.dst } : {}), table: r.table };
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

/** The netlink steps of the actions, in order (sortActions). */
export function renderSteps(actions: readonly Action[]): Step[] {
  return sortActions(actions).flatMap((a): Step[] => {
    switch (a.kind) {
      case 'link-up':
        return [{ do: 'link-up', dev: a.dev }];
      case 'link-delete':
        return [{ do: 'link-delete', dev: a.dev }];
      case 'ipvlan-add':
        return [{ do: 'ipvlan-add', dev: a.dev, parent: a.parent }];
      case 'eni-release':
        // Down first: the kernel renames only a link that is down.
        return [{ do: 'link-down', dev: a.dev }, { do: 'address-flush', dev: a.dev }, { do: 'link-set', dev: a.dev, alias: '', ...(a.name !== a.dev ? { rename: a.name } : {}) }];
      case 'address-add':
        return [{ do: 'address-replace', dev: a.address.dev, cidr: a.address.cidr, ...(a.address.noPrefixRoute ? { noPrefixRoute: true } : {}) }];
      case 'address-delete':
        return [{ do: 'address-delete', dev: a.address.dev, cidr: a.address.cidr }];
      case 'route-replace':
        return [routeStep('replace', a.route)];
      case 'route-delete':
        return [routeStep('delete', a.route)];
      case 'rule-add':
        return [{ do: 'rule-add', ...ruleSelector(a.rule), protocol: OWNED_PROTOCOL }];
      case 'rule-delete':
        return [{ do: 'rule-delete', ...ruleSelector(a.rule) }];
      case 'neighbour-replace':
        return [{ do: 'neighbour-replace', dst: a.neighbour.dst, dev: a.neighbour.dev, lladdr: a.neighbour.lladdr }];
      case 'proxy-add':
        return [{ do: 'proxy-replace', dst: a.proxy.dst, dev: a.proxy.dev, protocol: OWNED_PROTOCOL }];
      case 'proxy-delete':
        return [{ do: 'proxy-delete', dst: a.proxy.dst, dev: a.proxy.dev }];
      case 'sysctl':
        return [{ do: 'sysctl', path: a.sysctl.path, value: a.sysctl.value }];
    }
  });
}
