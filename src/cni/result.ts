// Structural checks for CNI results: a prevResult the runtime hands us, and the
// result an agent handler returns before it goes back to the runtime.
import type { CniDns, CniInterface, CniIPConfig, CniResult, CniRoute } from './types.js';

// Not `import`: the plugin loads this, and getBuiltinModule skips the ES module facade.
const { isIP } = process.getBuiltinModule('node:net');

type Obj = Record<string, unknown>;

/** Thrown with a JSON-path-like location of the first problem. */
export class ResultShapeError extends Error {}

function fail(path: string, what: string): never {
  throw new ResultShapeError(`${path}: ${what}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, path: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') fail(`${path}.${key}`, required ? 'required string' : 'must be a string');
  return v;
}

function uint(o: Obj, key: string, path: string, max = 0xffffffff): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(`${path}.${key}`, `must be an integer 0..${max}`);
  return v;
}

function list(o: Obj, key: string, path: string): unknown[] | undefined {
  const v: unknown = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'must be a list');
  return v as unknown[];
}

function strings(o: Obj, key: string, path: string): string[] | undefined {
  const v = list(o, key, path);
  if (v === undefined) return undefined;
  if (!v.every((s) => typeof s === 'string')) fail(`${path}.${key}`, 'must be a list of strings');
  return v;
}

/** "10.0.0.5/32" or "fd00::5/128". */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function ip(o: Obj, key: string, path: string): string | undefined {
  const v = str(o, key, path, false);
  if (v !== undefined && isIP(v) === 0) fail(`${path}.${key}`, `not an IP address: ${JSON.stringify(v)}`);
  return v;
}

function cidr(o: Obj, key: string, path: string): string {
  const v = str(o, key, path, true)!;
  if (!isCidr(v)) fail(`${path}.${key}`, `not an address in CIDR notation: ${JSON.stringify(v)}`);
  return v;
}

function parseInterface(v: unknown, path: string): CniInterface {
  if (!isObj(v)) fail(path, 'must be an object');
  const name = str(v, 'name', path, true)!;
  if (name === '') fail(`${path}.name`, 'must not be empty');
  const out: CniInterface = { name };
  const mac = str(v, 'mac', path, false);
  if (mac !== undefined) out.mac = mac;
  const sandbox = str(v, 'sandbox', path, false);
  if (sandbox !== undefined) out.sandbox = sandbox;
  const mtu = uint(v, 'mtu', path);
  if (mtu !== undefined) out.mtu = mtu;
  const socketPath = str(v, 'socketPath', path, false);
  if (socketPath !== undefined) out.socketPath = socketPath;
  const pciID = str(v, 'pciID', path, false);
  if (pciID !== undefined) out.pciID = pciID;
  return out;
}

function parseIP(v: unknown, path: string, interfaces: number): CniIPConfig {
  if (!isObj(v)) fail(path, 'must be an object');
  const out: CniIPConfig = { address: cidr(v, 'address', path) };
  const gateway = ip(v, 'gateway', path);
  if (gateway !== undefined) out.gateway = gateway;
  const index = uint(v, 'interface', path);
  if (index !== undefined) {
    if (index >= interfaces) fail(`${path}.interface`, `index ${index} but only ${interfaces} interface(s)`);
    out.interface = index;
  }
  return out;
}

function parseRoute(v: unknown, path: string): CniRoute {
  if (!isObj(v)) fail(path, 'must be an object');
  const out: CniRoute = { dst: cidr(v, 'dst', path) };
  const gw = ip(v, 'gw', path);
  if (gw !== undefined) out.gw = gw;
  for (const key of ['mtu', 'advmss', 'priority', 'table'] as const) {
    const n = uint(v, key, path);
    if (n !== undefined) out[key] = n;
  }
  const scope = uint(v, 'scope', path, 255);
  if (scope !== undefined) out.scope = scope;
  return out;
}

export function parseDns(v: unknown, path: string): CniDns {
  if (!isObj(v)) fail(path, 'must be an object');
  const out: CniDns = {};
  const nameservers = strings(v, 'nameservers', path);
  if (nameservers !== undefined) {
    nameservers.forEach((n, i) => isIP(n) === 0 && fail(`${path}.nameservers[${i}]`, `not an IP address: ${JSON.stringify(n)}`));
    out.nameservers = nameservers;
  }
  const domain = str(v, 'domain', path, false);
  if (domain !== undefined) out.domain = domain;
  const search = strings(v, 'search', path);
  if (search !== undefined) out.search = search;
  const options = strings(v, 'options', path);
  if (options !== undefined) out.options = options;
  return out;
}

/**
 * Checks an ADD result's shape and returns a copy with only the spec's keys
 * (a handler's extra fields never reach the runtime). `cniVersion` is not
 * required here: the caller stamps the request's version.
 */
export function parseResult(v: unknown, path = 'result'): Omit<CniResult, 'cniVersion'> & { cniVersion?: string } {
  if (!isObj(v)) fail(path, 'must be an object');
  const out: Omit<CniResult, 'cniVersion'> & { cniVersion?: string } = {};
  const version = str(v, 'cniVersion', path, false);
  if (version !== undefined) out.cniVersion = version;
  const interfaces = list(v, 'interfaces', path);
  if (interfaces) out.interfaces = interfaces.map((x, i) => parseInterface(x, `${path}.interfaces[${i}]`));
  const ips = list(v, 'ips', path);
  if (ips) out.ips = ips.map((x, i) => parseIP(x, `${path}.ips[${i}]`, out.interfaces?.length ?? 0));
  const routes = list(v, 'routes', path);
  if (routes) out.routes = routes.map((x, i) => parseRoute(x, `${path}.routes[${i}]`));
  if (v.dns !== undefined) out.dns = parseDns(v.dns, `${path}.dns`);
  return out;
}

/** The result stamped with `cniVersion`, as that version defines it: 1.0.0 lacks the 1.1.0 interface and route fields. */
export function resultForVersion(result: Omit<CniResult, 'cniVersion'> & { cniVersion?: string }, cniVersion: string): CniResult {
  const { cniVersion: _theirs, ...rest } = result;
  const out: CniResult = { cniVersion, ...rest };
  if (cniVersion !== '1.0.0') return out;
  if (out.interfaces) out.interfaces = out.interfaces.map(({ name, mac, sandbox }) => ({ name, ...(mac !== undefined && { mac }), ...(sandbox !== undefined && { sandbox }) }));
  if (out.routes) out.routes = out.routes.map(({ dst, gw }) => ({ dst, ...(gw !== undefined && { gw }) }));
  return out;
}
