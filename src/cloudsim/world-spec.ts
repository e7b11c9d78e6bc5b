// The emulator's world file: what exists when it starts. Parsed from YAML and
// checked here so a bad file fails with the path of the bad field.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROVIDERS, type ProviderType } from '../api/common.js';
import { cidrWithin, parseCidr } from '../util/ipv4.js';

export interface SubnetSpec {
  id: string;
  zone: string;
  cidr: string;
  name?: string;
}

export interface VpcSpec {
  id: string;
  cidr: string;
  subnets: SubnetSpec[];
}

export interface InstanceTypeSpec {
  type: string;
  /** ENIs per instance, primary included (as both clouds count). */
  maxENIs: number;
  /** Private IPs per ENI, primary IP included. */
  ipsPerENI: number;
}

export interface InstanceSpec {
  id: string;
  type: string;
  zone: string;
  /** Subnet of the primary ENI. */
  subnetId: string;
  name?: string;
}

export interface RegionSpec {
  id: string;
  provider: ProviderType;
  zones: string[];
  vpcs: VpcSpec[];
  securityGroups: { id: string; vpcId: string }[];
  instanceTypes: InstanceTypeSpec[];
  instances: InstanceSpec[];
}

export interface CredentialSpec {
  provider: ProviderType;
  accessKeyId: string;
  accessKeySecret: string;
}

export interface DelaySpec {
  /** Attaching → InUse. */
  attachMs: number;
  /** Detaching → Available. */
  detachMs: number;
  /** Deleting → gone. */
  deleteMs: number;
  /** Tencent asynchronous tasks (create, assign, unassign) RUNNING → SUCCESS. */
  taskMs: number;
}

export interface RateLimitSpec {
  qps: number;
  burst: number;
}

export interface WorldSpec {
  credentials: CredentialSpec[];
  regions: RegionSpec[];
  delays: DelaySpec;
  /** Per-API server-side limits; `default` applies to APIs not listed. Omitted = unlimited. */
  rateLimits?: { default?: RateLimitSpec; perAction?: Record<string, RateLimitSpec> };
  /** IPs an ENI may hold while attached to no instance. */
  maxIPsPerDetachedENI: number;
}

export const DEFAULT_DELAYS: DelaySpec = { attachMs: 2000, detachMs: 1500, deleteMs: 500, taskMs: 300 };

class SpecError extends Error {}

function req<T>(value: T | undefined, path: string): T {
  if (value === undefined || value === null) throw new SpecError(`${path}: required`);
  return value;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new SpecError(`${path}: must be a non-empty string`);
  return value;
}

function int(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new SpecError(`${path}: must be an integer >= ${min}`);
  return value;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new SpecError(`${path}: must be a list`);
  return value;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown, path: string): Obj => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SpecError(`${path}: must be a mapping`);
  return value as Obj;
};

/** Validates a parsed world document and fills defaults. Throws with the path of the first problem. */
export function parseWorldSpec(doc: unknown): WorldSpec {
  const root = obj(doc, 'world');
  const ids = new Set<string>();
  const unique = (id: string, path: string) => {
    if (ids.has(id)) throw new SpecError(`${path}: duplicate id ${id}`);
    ids.add(id);
    return id;
  };
  const provider = (v: unknown, path: string): ProviderType => {
    if (!PROVIDERS.includes(v as ProviderType)) throw new SpecError(`${path}: must be one of ${PROVIDERS.join(', ')}`);
    return v as ProviderType;
  };

  const credentials = list(req(root.credentials, 'credentials'), 'credentials').map((c, i) => {
    const o = obj(c, `credentials[${i}]`);
    return {
      provider: provider(o.provider, `credentials[${i}].provider`),
      accessKeyId: str(o.accessKeyId, `credentials[${i}].accessKeyId`),
      accessKeySecret: str(o.accessKeySecret, `credentials[${i}].accessKeySecret`),
    };
  });

  const regions = list(req(root.regions, 'regions'), 'regions').map((r, i): RegionSpec => {
    const p = `regions[${i}]`;
    const o = obj(r, p);
    const regionProvider = provider(o.provider, `${p}.provider`);
    const regionId = str(o.id, `${p}.id`);
    const zones = list(req(o.zones, `${p}.zones`), `${p}.zones`).map((z, j) => str(z, `${p}.zones[${j}]`));
    const vpcs = list(req(o.vpcs, `${p}.vpcs`), `${p}.vpcs`).map((v, j): VpcSpec => {
      const vp = `${p}.vpcs[${j}]`;
      const vo = obj(v, vp);
      const cidr = str(vo.cidr, `${vp}.cidr`);
      const vpcCidr = parseCidr(cidr);
      const subnets = list(req(vo.subnets, `${vp}.subnets`), `${vp}.subnets`).map((s, k): SubnetSpec => {
        const sp = `${vp}.subnets[${k}]`;
        const so = obj(s, sp);
        const zone = str(so.zone, `${sp}.zone`);
        if (!zones.includes(zone)) throw new SpecError(`${sp}.zone: ${zone} is not a zone of the region`);
        const scidr = str(so.cidr, `${sp}.cidr`);
        const sc = parseCidr(scidr);
        if (!cidrWithin(sc, vpcCidr)) {
          throw new SpecError(`${sp}.cidr: ${scidr} is not inside the VPC's ${cidr}`);
        }
        if (sc.prefix > 29) throw new SpecError(`${sp}.cidr: a subnet needs at least a /29`);
        return { id: unique(str(so.id, `${sp}.id`), `${sp}.id`), zone, cidr: sc.text, ...(so.name ? { name: str(so.name, `${sp}.name`) } : {}) };
      });
      return { id: unique(str(vo.id, `${vp}.id`), `${vp}.id`), cidr: vpcCidr.text, subnets };
    });
    const vpcIds = new Set(vpcs.map((v) => v.id));
    const subnetZones = new Map(vpcs.flatMap((v) => v.subnets.map((s) => [s.id, s.zone] as const)));
    const securityGroups = list(o.securityGroups ?? [], `${p}.securityGroups`).map((g, j) => {
      const go = obj(g, `${p}.securityGroups[${j}]`);
      const vpcId = str(go.vpcId, `${p}.securityGroups[${j}].vpcId`);
      if (!vpcIds.has(vpcId)) throw new SpecError(`${p}.securityGroups[${j}].vpcId: unknown VPC ${vpcId}`);
      return { id: unique(str(go.id, `${p}.securityGroups[${j}].id`), `${p}.securityGroups[${j}].id`), vpcId };
    });
    const instanceTypes = list(req(o.instanceTypes, `${p}.instanceTypes`), `${p}.instanceTypes`).map((t, j) => {
      const tp = `${p}.instanceTypes[${j}]`;
      const to = obj(t, tp);
      return { type: str(to.type, `${tp}.type`), maxENIs: int(to.maxENIs, `${tp}.maxENIs`, 1), ipsPerENI: int(to.ipsPerENI, `${tp}.ipsPerENI`, 1) };
    });
    const types = new Set(instanceTypes.map((t) => t.type));
    const instances = list(o.instances ?? [], `${p}.instances`).map((n, j): InstanceSpec => {
      const np = `${p}.instances[${j}]`;
      const no = obj(n, np);
      const type = str(no.type, `${np}.type`);
      if (!types.has(type)) throw new SpecError(`${np}.type: unknown instance type ${type}`);
      const zone = str(no.zone, `${np}.zone`);
      const subnetId = str(no.subnetId, `${np}.subnetId`);
      if (subnetZones.get(subnetId) !== zone) throw new SpecError(`${np}.subnetId: ${subnetId} is not a subnet in zone ${zone}`);
      return { id: unique(str(no.id, `${np}.id`), `${np}.id`), type, zone, subnetId, ...(no.name ? { name: str(no.name, `${np}.name`) } : {}) };
    });
    return { id: regionId, provider: regionProvider, zones, vpcs, securityGroups, instanceTypes, instances };
  });

  const d = root.delays === undefined ? {} : obj(root.delays, 'delays');
  const delays: DelaySpec = { ...DEFAULT_DELAYS };
  for (const key of Object.keys(DEFAULT_DELAYS) as (keyof DelaySpec)[]) if (d[key] !== undefined) delays[key] = int(d[key], `delays.${key}`);

  let rateLimits: WorldSpec['rateLimits'];
  if (root.rateLimits !== undefined) {
    const rl = obj(root.rateLimits, 'rateLimits');
    const limit = (v: unknown, path: string): RateLimitSpec => {
      const lo = obj(v, path);
      return { qps: int(lo.qps, `${path}.qps`, 1), burst: int(lo.burst, `${path}.burst`, 1) };
    };
    rateLimits = {};
    if (rl.default !== undefined) rateLimits.default = limit(rl.default, 'rateLimits.default');
    if (rl.perAction !== undefined) {
      rateLimits.perAction = Object.fromEntries(Object.entries(obj(rl.perAction, 'rateLimits.perAction')).map(([k, v]) => [k, limit(v, `rateLimits.perAction.${k}`)]));
    }
  }
  return {
    credentials,
    regions,
    delays,
    ...(rateLimits ? { rateLimits } : {}),
    maxIPsPerDetachedENI: root.maxIPsPerDetachedENI === undefined ? 50 : int(root.maxIPsPerDetachedENI, 'maxIPsPerDetachedENI', 1),
  };
}

export function loadWorldSpec(file: string): WorldSpec {
  try {
    return parseWorldSpec(parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`world file ${file}: ${(err as Error).message}`, { cause: err });
  }
}
