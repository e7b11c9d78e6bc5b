// iproute2 `-json -N -d` output → model. Pure; tolerant of fields iproute2
// omits (main table, boot protocol, universe scope, unicast type).
import type { Address, Link, NetConf, Neighbour, ProxyNeighbour, Route, Rule } from '../../src/agent/netlink/model.js';

type Json = Record<string, unknown>;

const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };
const RP_FILTER: Record<string, number> = { off: 0, strict: 1, loose: 2 };

function obj(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`ip ${what}: expected an object, got ${JSON.stringify(value)}`);
  return value as Json;
}

function str(j: Json, key: string): string | undefined {
  const v = j[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(j: Json, key: string, names: Record<string, number> = {}): number | undefined {
  const v = j[key];
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  return names[v];
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`ip output lacks ${what}`);
  return value;
}

/** "default" → 0.0.0.0/0, bare address → /32, with an optional separate length. */
function cidr(addr: string, len?: number): string {
  if (addr === 'default' || addr === 'all') return '0.0.0.0/0';
  if (addr.includes('/')) return addr;
  return `${addr}/${len ?? 32}`;
}

export function parseLinks(raw: unknown[]): Link[] {
  return raw.map((r) => {
    const j = obj(r, 'link');
    const info = j.linkinfo && typeof j.linkinfo === 'object' ? (j.linkinfo as Json) : {};
    const data = info.info_data && typeof info.info_data === 'object' ? (info.info_data as Json) : {};
    const flags = Array.isArray(j.flags) ? (j.flags as unknown[]) : [];
    return {
      index: required(num(j, 'ifindex'), 'ifindex'),
      name: required(str(j, 'ifname'), 'ifname'),
      mac: (str(j, 'address') ?? '').toLowerCase(),
      kind: str(info, 'info_kind'),
      up: flags.includes('UP'),
      linkName: str(j, 'link'),
      linkIndex: num(j, 'link_index'),
      linkElsewhere: j.link_netnsid !== undefined,
      alias: str(j, 'ifalias'),
      ipvlanMode: str(info, 'info_kind') === 'ipvlan' ? str(data, 'mode') : undefined,
    };
  });
}

export function parseAddresses(raw: unknown[]): Address[] {
  const out: Address[] = [];
  for (const r of raw) {
    const j = obj(r, 'address');
    const dev = required(str(j, 'ifname'), 'ifname');
    for (const a of Array.isArray(j.addr_info) ? (j.addr_info as unknown[]) : []) {
      const ai = obj(a, 'addr_info');
      if (str(ai, 'family') !== 'inet') continue;
      out.push({
        dev,
        address: required(str(ai, 'local'), 'local address'),
        prefix: required(num(ai, 'prefixlen'), 'prefixlen'),
        scope: num(ai, 'scope', SCOPES) ?? 0,
      });
    }
  }
  return out;
}

export function parseRoutes(raw: unknown[]): Route[] {
  return raw.map((r) => {
    const j = obj(r, 'route');
    const flags = Array.isArray(j.flags) ? (j.flags as unknown[]) : [];
    return {
      table: num(j, 'table', TABLES) ?? 254,
      dst: cidr(required(str(j, 'dst'), 'route dst')),
      gateway: str(j, 'gateway'),
      dev: str(j, 'dev'),
      scope: num(j, 'scope', SCOPES) ?? 0,
      protocol: num(j, 'protocol', { kernel: 2, boot: 3, static: 4 }) ?? 3,
      type: num(j, 'type', { unicast: 1, local: 2, broadcast: 3, blackhole: 6, unreachable: 7, prohibit: 8 }) ?? 1,
      onlink: flags.includes('onlink'),
    };
  });
}

export function parseRules(raw: unknown[]): Rule[] {
  return raw.map((r) => {
    const j = obj(r, 'rule');
    const src = str(j, 'src');
    const dst = str(j, 'dst');
    return {
      priority: required(num(j, 'priority'), 'rule priority'),
      src: src === undefined || src === 'all' ? undefined : cidr(src, num(j, 'srclen')),
      dst: dst === undefined || dst === 'all' ? undefined : cidr(dst, num(j, 'dstlen')),
      table: num(j, 'table', TABLES),
      protocol: num(j, 'protocol', { unspec: 0, kernel: 2, boot: 3, static: 4 }) ?? 0,
    };
  });
}

export function parseNeighbours(raw: unknown[]): Neighbour[] {
  return raw.map((r) => {
    const j = obj(r, 'neighbour');
    const state = Array.isArray(j.state) ? (j.state as unknown[]) : [];
    return {
      dst: required(str(j, 'dst'), 'neighbour dst'),
      dev: required(str(j, 'dev'), 'neighbour dev'),
      lladdr: str(j, 'lladdr')?.toLowerCase(),
      permanent: state.includes('PERMANENT'),
    };
  });
}

export function parseProxies(raw: unknown[]): ProxyNeighbour[] {
  return raw.map((r) => {
    const j = obj(r, 'proxy neighbour');
    return {
      dst: required(str(j, 'dst'), 'proxy dst'),
      dev: required(str(j, 'dev'), 'proxy dev'),
      protocol: num(j, 'protocol') ?? 0,
    };
  });
}

export function parseNetConf(raw: unknown[]): NetConf[] {
  return raw.map((r) => {
    const j = obj(r, 'netconf');
    return {
      dev: required(str(j, 'interface'), 'netconf interface'),
      forwarding: j.forwarding === true,
      rpFilter: num(j, 'rp_filter', RP_FILTER) ?? 0,
    };
  });
}
