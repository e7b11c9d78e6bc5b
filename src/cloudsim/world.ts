// The emulator's world model: VPCs, subnets with real free-IP accounting,
// instances with their ENI/IP limits, ENIs with async state machines, tags,
// idempotent client tokens, and Tencent-style async tasks.
//
// Provider-neutral: each protocol (alibaba.ts, tencent.ts) maps these
// operations and SimError kinds onto its own wire shapes and error codes.
// Every operation validates everything before it changes anything, and runs
// to completion synchronously, so a request never leaves a partial change.
// Time is read from an injectable clock; pending transitions are applied
// lazily at the start of each operation, which keeps tests deterministic.
import { EventEmitter } from 'node:events';
import type { ProviderType } from '../api/common.js';
import { cidrContains, intToIp, parseCidr, type Cidr } from '../util/ipv4.js';
import type { DelaySpec, InstanceTypeSpec, WorldSpec } from './world-spec.js';

export type EniStatus = 'Available' | 'Attaching' | 'InUse' | 'Detaching' | 'Deleting';

export interface SimENI {
  id: string;
  provider: ProviderType;
  regionId: string;
  vpcId: string;
  subnetId: string;
  zone: string;
  mac: string;
  primaryIP: string;
  secondaryIPs: string[];
  securityGroupIds: string[];
  tags: Record<string, string>;
  status: EniStatus;
  instanceId?: string;
  deviceIndex?: number;
  /** The instance's primary ENI: never detached or deleted. */
  primary: boolean;
  name?: string;
  description?: string;
  createdAt: string;
  /** A transition in progress: the state it settles into, and when. */
  pending?: { to: EniStatus | 'Deleted'; at: number };
}

export interface SimSubnet {
  id: string;
  provider: ProviderType;
  regionId: string;
  vpcId: string;
  zone: string;
  cidr: string;
  gateway: string;
  name?: string;
  /** Addresses the cloud keeps for itself (network, gateway, broadcast, ...). */
  reserved: string[];
  /** Addresses held by ENIs. */
  used: Set<string>;
}

export interface SimInstance {
  id: string;
  provider: ProviderType;
  regionId: string;
  type: string;
  zone: string;
  vpcId: string;
  subnetId: string;
  primaryENIId: string;
  name?: string;
  status: 'Running';
}

export interface SimTask {
  id: string;
  regionId: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED';
  at: number;
}

export type SimErrorKind =
  | 'InvalidRegion'
  | 'InvalidParameter'
  | 'EniNotFound'
  | 'InstanceNotFound'
  | 'SubnetNotFound'
  | 'SecurityGroupNotFound'
  | 'TaskNotFound'
  | 'InvalidEniState'
  | 'EniNotAttached'
  | 'DetachPrimaryEni'
  | 'ZoneMismatch'
  | 'VpcMismatch'
  | 'EniLimitExceeded'
  | 'IpLimitExceeded'
  | 'SubnetExhausted'
  | 'IpAlreadyAssigned'
  | 'IpNotAssigned'
  | 'IdempotenceMismatch';

/** A refused operation. `param` names the offending request parameter where there is one. */
export class SimError extends Error {
  constructor(
    readonly kind: SimErrorKind,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export interface Scope {
  provider: ProviderType;
  regionId: string;
}

export interface EniFilter {
  ids?: string[];
  instanceId?: string;
  subnetId?: string;
  vpcId?: string;
  status?: EniStatus;
  /** Every pair must match. A value of '' matches any value of the key. */
  tags?: Record<string, string>;
  primary?: boolean;
}

export interface CreateEniInput {
  subnetId: string;
  securityGroupIds: string[];
  /** The primary address; picked by the cloud when omitted. */
  primaryIP?: string;
  /** Secondary addresses given by the caller... */
  secondaryIPs?: string[];
  /** ...and how many more the cloud picks. */
  secondaryIPCount?: number;
  tags?: Record<string, string>;
  name?: string;
  description?: string;
}

/** Events for the VPC fabric (a NIC appears on attach, goes on detach, ...). */
export interface WorldEvents {
  attached: [SimENI, SimInstance];
  detached: [SimENI, string];
  assigned: [SimENI, string[]];
  unassigned: [SimENI, string[]];
  deleted: [SimENI];
}

interface Region {
  id: string;
  provider: ProviderType;
  zones: string[];
  vpcs: Map<string, { id: string; cidr: string }>;
  subnets: Map<string, SimSubnet>;
  securityGroups: Map<string, string>; // id -> vpcId
  instanceTypes: Map<string, InstanceTypeSpec>;
  instances: Map<string, SimInstance>;
  enis: Map<string, SimENI>;
  tasks: Map<string, SimTask>;
}

const MAC_PREFIX: Record<ProviderType, string> = { alibaba: '00:16:3e', tencent: '20:90:6f' };

function clone<T>(v: T): T {
  return structuredClone(v);
}

export class World extends EventEmitter<WorldEvents> {
  private readonly regions = new Map<string, Region>();
  private readonly secrets = new Map<string, string>();
  private readonly tokens = new Map<string, { params: string; result: unknown }>();
  private counter = 0;
  delays: DelaySpec;
  readonly maxIPsPerDetachedENI: number;
  private stale?: { until: number; regions: Map<string, Map<string, SimENI>> };

  constructor(
    spec: WorldSpec,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.delays = { ...spec.delays };
    this.maxIPsPerDetachedENI = spec.maxIPsPerDetachedENI;
    for (const c of spec.credentials) this.secrets.set(`${c.provider}:${c.accessKeyId}`, c.accessKeySecret);
    for (const r of spec.regions) {
      const region: Region = {
        id: r.id,
        provider: r.provider,
        zones: [...r.zones],
        vpcs: new Map(r.vpcs.map((v) => [v.id, { id: v.id, cidr: v.cidr }])),
        subnets: new Map(),
        securityGroups: new Map(r.securityGroups.map((g) => [g.id, g.vpcId])),
        instanceTypes: new Map(r.instanceTypes.map((t) => [t.type, { ...t }])),
        instances: new Map(),
        enis: new Map(),
        tasks: new Map(),
      };
      this.regions.set(`${r.provider}:${r.id}`, region);
      for (const v of r.vpcs) {
        for (const s of v.subnets) region.subnets.set(s.id, this.makeSubnet(region, v.id, s.id, s.zone, s.cidr, s.name));
      }
      for (const i of r.instances) {
        const subnet = region.subnets.get(i.subnetId)!;
        const groups = [...region.securityGroups].filter(([, vpc]) => vpc === subnet.vpcId).map(([id]) => id);
        const eni = this.makeENI(region, subnet, [], { tags: {}, name: `${i.id}-primary`, securityGroupIds: groups.slice(0, 1) });
        eni.primary = true;
        eni.status = 'InUse';
        eni.instanceId = i.id;
        eni.deviceIndex = 0;
        region.instances.set(i.id, {
          id: i.id,
          provider: r.provider,
          regionId: r.id,
          type: i.type,
          zone: i.zone,
          vpcId: subnet.vpcId,
          subnetId: subnet.id,
          primaryENIId: eni.id,
          ...(i.name ? { name: i.name } : {}),
          status: 'Running',
        });
      }
    }
  }

  // ---- identity -------------------------------------------------------------

  /** The secret of an access key, or undefined if the key is unknown. */
  secretFor(provider: ProviderType, accessKeyId: string): string | undefined {
    return this.secrets.get(`${provider}:${accessKeyId}`);
  }

  /** The regions of one provider. */
  regionIds(provider: ProviderType): string[] {
    return [...this.regions.values()].filter((r) => r.provider === provider).map((r) => r.id);
  }

  hasRegion(scope: Scope): boolean {
    return this.regions.has(`${scope.provider}:${scope.regionId}`);
  }

  // ---- reads ------------------------------------------------------------------

  describeInstances(scope: Scope, ids?: string[]): SimInstance[] {
    const region = this.region(scope);
    const all = [...region.instances.values()];
    return clone(ids ? all.filter((i) => ids.includes(i.id)) : all);
  }

  instanceTypes(scope: Scope, types?: string[]): InstanceTypeSpec[] {
    const region = this.region(scope);
    const all = [...region.instanceTypes.values()];
    return clone(types ? all.filter((t) => types.includes(t.type)) : all);
  }

  /** ENI and IP limits of one instance (its type's). */
  instanceLimits(scope: Scope, instanceId: string): InstanceTypeSpec {
    const region = this.region(scope);
    const inst = this.instance(region, instanceId);
    return clone(region.instanceTypes.get(inst.type)!);
  }

  describeSubnets(scope: Scope, filter: { ids?: string[]; vpcId?: string; zone?: string } = {}): (Omit<SimSubnet, 'used'> & { availableIPs: number; totalIPs: number })[] {
    const region = this.region(scope);
    const enis = this.visibleENIs(region);
    return [...region.subnets.values()]
      .filter((s) => (!filter.ids || filter.ids.includes(s.id)) && (!filter.vpcId || s.vpcId === filter.vpcId) && (!filter.zone || s.zone === filter.zone))
      .map((s) => {
        const { used: _used, ...rest } = s;
        const total = parseCidr(s.cidr).size - s.reserved.length;
        const usedNow = enis === region.enis ? s.used.size : [...enis.values()].filter((e) => e.subnetId === s.id).reduce((n, e) => n + 1 + e.secondaryIPs.length, 0);
        return { ...clone(rest), availableIPs: total - usedNow, totalIPs: total };
      });
  }

  describeENIs(scope: Scope, filter: EniFilter = {}): SimENI[] {
    const region = this.region(scope);
    const out: SimENI[] = [];
    for (const eni of this.visibleENIs(region).values()) {
      if (filter.ids && !filter.ids.includes(eni.id)) continue;
      if (filter.instanceId !== undefined && eni.instanceId !== filter.instanceId) continue;
      if (filter.subnetId !== undefined && eni.subnetId !== filter.subnetId) continue;
      if (filter.vpcId !== undefined && eni.vpcId !== filter.vpcId) continue;
      if (filter.status !== undefined && eni.status !== filter.status) continue;
      if (filter.primary !== undefined && eni.primary !== filter.primary) continue;
      if (filter.tags && !Object.entries(filter.tags).every(([k, v]) => k in eni.tags && (v === '' || eni.tags[k] === v))) continue;
      out.push(eni);
    }
    return clone(out.sort((a, b) => (a.id < b.id ? -1 : 1)));
  }

  task(scope: Scope, id: string): SimTask {
    const region = this.region(scope);
    const task = region.tasks.get(id);
    if (!task) throw new SimError('TaskNotFound', `task ${id} not found`, 'TaskId');
    return clone(task);
  }

  // ---- writes -----------------------------------------------------------------

  /**
   * Runs `fn` once per client token: a repeat with the same token and the
   * same parameters returns the first result; different parameters are refused.
   */
  idempotent<T>(scope: Scope, action: string, token: string | undefined, params: unknown, fn: () => T): T {
    if (!token) return fn();
    const key = `${scope.provider}:${scope.regionId}:${action}:${token}`;
    const paramsText = JSON.stringify(params);
    const seen = this.tokens.get(key);
    if (seen) {
      if (seen.params !== paramsText) throw new SimError('IdempotenceMismatch', `client token ${token} was used with other parameters`, 'ClientToken');
      return clone(seen.result as T);
    }
    const result = fn();
    this.tokens.set(key, { params: paramsText, result: clone(result) });
    return result;
  }

  createENI(scope: Scope, input: CreateEniInput): SimENI {
    const region = this.region(scope);
    const subnet = region.subnets.get(input.subnetId);
    if (!subnet) throw new SimError('SubnetNotFound', `subnet ${input.subnetId} not found`, 'SubnetId');
    if (input.securityGroupIds.length === 0) throw new SimError('InvalidParameter', 'at least one security group is required', 'SecurityGroupIds');
    for (const sg of input.securityGroupIds) {
      const vpc = region.securityGroups.get(sg);
      if (vpc === undefined) throw new SimError('SecurityGroupNotFound', `security group ${sg} not found`, 'SecurityGroupIds');
      if (vpc !== subnet.vpcId) throw new SimError('VpcMismatch', `security group ${sg} is not in VPC ${subnet.vpcId}`, 'SecurityGroupIds');
    }
    const wanted = [...(input.primaryIP ? [input.primaryIP] : []), ...(input.secondaryIPs ?? [])];
    const picks = (input.primaryIP ? 0 : 1) + (input.secondaryIPCount ?? 0);
    if (wanted.length + picks > this.maxIPsPerDetachedENI) {
      throw new SimError('IpLimitExceeded', `an ENI holds at most ${this.maxIPsPerDetachedENI} private IPs`, 'SecondaryPrivateIpAddressCount');
    }
    const ips = this.pickIPs(subnet, picks, wanted); // the given ones first, then the picked
    const primary = input.primaryIP ?? ips[wanted.length]!;
    const eni = this.makeENI(region, subnet, [primary, ...ips.filter((ip) => ip !== primary)], input);
    return clone(eni);
  }

  attachENI(scope: Scope, eniId: string, instanceId: string, taskId?: string): SimENI {
    const region = this.region(scope);
    const eni = this.eni(region, eniId);
    const inst = this.instance(region, instanceId);
    if (eni.status !== 'Available') throw new SimError('InvalidEniState', `ENI ${eniId} is ${eni.status}, not Available`);
    if (eni.zone !== inst.zone) throw new SimError('ZoneMismatch', `ENI ${eniId} is in ${eni.zone}, instance ${instanceId} in ${inst.zone}`);
    if (eni.vpcId !== inst.vpcId) throw new SimError('VpcMismatch', `ENI ${eniId} is in VPC ${eni.vpcId}, instance in ${inst.vpcId}`);
    const limits = region.instanceTypes.get(inst.type)!;
    const held = [...region.enis.values()].filter((e) => e.instanceId === instanceId);
    if (held.length >= limits.maxENIs) {
      throw new SimError('EniLimitExceeded', `instance ${instanceId} (${inst.type}) already has ${held.length} of ${limits.maxENIs} ENIs`);
    }
    if (1 + eni.secondaryIPs.length > limits.ipsPerENI) {
      throw new SimError('IpLimitExceeded', `ENI ${eniId} holds more IPs than ${inst.type} allows per ENI (${limits.ipsPerENI})`);
    }
    const indexes = new Set(held.map((e) => e.deviceIndex));
    let index = 1;
    while (indexes.has(index)) index++;
    const at = this.now() + this.delays.attachMs;
    eni.status = 'Attaching';
    eni.instanceId = instanceId;
    eni.deviceIndex = index;
    eni.pending = { to: 'InUse', at };
    if (taskId) this.addTask(region, taskId, at);
    this.settle(region);
    return clone(eni);
  }

  detachENI(scope: Scope, eniId: string, instanceId?: string, taskId?: string): SimENI {
    const region = this.region(scope);
    const eni = this.eni(region, eniId);
    if (eni.primary) throw new SimError('DetachPrimaryEni', `ENI ${eniId} is the primary ENI of ${eni.instanceId}`);
    if (eni.status === 'Available') throw new SimError('EniNotAttached', `ENI ${eniId} is not attached`);
    if (eni.status !== 'InUse') throw new SimError('InvalidEniState', `ENI ${eniId} is ${eni.status}, not InUse`);
    if (instanceId !== undefined && eni.instanceId !== instanceId) {
      if (!region.instances.has(instanceId)) throw new SimError('InstanceNotFound', `instance ${instanceId} not found`, 'InstanceId');
      throw new SimError('EniNotAttached', `ENI ${eniId} is not attached to ${instanceId}`);
    }
    const at = this.now() + this.delays.detachMs;
    eni.status = 'Detaching';
    eni.pending = { to: 'Available', at };
    if (taskId) this.addTask(region, taskId, at);
    this.settle(region);
    return clone(eni);
  }

  deleteENI(scope: Scope, eniId: string, taskId?: string): void {
    const region = this.region(scope);
    const eni = this.eni(region, eniId);
    if (eni.primary) throw new SimError('InvalidEniState', `ENI ${eniId} is a primary ENI and cannot be deleted`);
    if (eni.status !== 'Available') throw new SimError('InvalidEniState', `ENI ${eniId} is ${eni.status}, not Available`);
    const at = this.now() + this.delays.deleteMs;
    eni.status = 'Deleting';
    eni.pending = { to: 'Deleted', at };
    if (taskId) this.addTask(region, taskId, at);
    this.settle(region);
  }

  /** Adds secondary IPs: `count` picked by the cloud, or the given addresses. Returns the new addresses. */
  assignIPs(scope: Scope, eniId: string, input: { count?: number; ips?: string[] }, taskId?: string): string[] {
    const region = this.region(scope);
    const eni = this.eni(region, eniId);
    if (eni.status !== 'Available' && eni.status !== 'InUse') throw new SimError('InvalidEniState', `ENI ${eniId} is ${eni.status}`);
    const count = input.count ?? 0;
    const wanted = input.ips ?? [];
    const limit = this.ipLimit(region, eni);
    const after = 1 + eni.secondaryIPs.length + count + wanted.length;
    if (after > limit) {
      throw new SimError('IpLimitExceeded', `ENI ${eniId} would hold ${after} private IPs; the limit is ${limit}`, count > 0 ? 'SecondaryPrivateIpAddressCount' : 'PrivateIpAddress');
    }
    const subnet = region.subnets.get(eni.subnetId)!;
    const ips = this.pickIPs(subnet, count, wanted);
    eni.secondaryIPs.push(...ips);
    if (taskId) this.addTask(region, taskId, this.now() + this.delays.taskMs);
    this.emit('assigned', clone(eni), [...ips]);
    return ips;
  }

  unassignIPs(scope: Scope, eniId: string, ips: string[], taskId?: string): void {
    const region = this.region(scope);
    const eni = this.eni(region, eniId);
    if (eni.status !== 'Available' && eni.status !== 'InUse') throw new SimError('InvalidEniState', `ENI ${eniId} is ${eni.status}`);
    for (const ip of ips) {
      if (ip === eni.primaryIP) throw new SimError('InvalidParameter', `${ip} is the primary IP of ${eniId}`, 'PrivateIpAddress');
      if (!eni.secondaryIPs.includes(ip)) throw new SimError('IpNotAssigned', `${ip} is not assigned to ${eniId}`, 'PrivateIpAddress');
    }
    const subnet = region.subnets.get(eni.subnetId)!;
    eni.secondaryIPs = eni.secondaryIPs.filter((ip) => !ips.includes(ip));
    for (const ip of ips) subnet.used.delete(ip);
    if (taskId) this.addTask(region, taskId, this.now() + this.delays.taskMs);
    this.emit('unassigned', clone(eni), [...ips]);
  }

  /** Records an asynchronous task that succeeds after the task delay (Tencent). */
  recordTask(scope: Scope, taskId: string): void {
    this.addTask(this.region(scope), taskId, this.now() + this.delays.taskMs);
  }

  /** For `seconds`, Describe* calls see the world as it is now. */
  freezeDescribes(seconds: number): void {
    if (seconds <= 0) {
      this.stale = undefined;
      return;
    }
    this.settleAll();
    const regions = new Map<string, Map<string, SimENI>>();
    for (const [key, r] of this.regions) regions.set(key, new Map(clone([...r.enis])));
    this.stale = { until: this.now() + seconds * 1000, regions };
  }

  /** The whole world as plain JSON, for the admin endpoint and tests. */
  snapshot(): unknown {
    this.settleAll();
    return {
      regions: [...this.regions.values()].map((r) => ({
        id: r.id,
        provider: r.provider,
        zones: r.zones,
        vpcs: [...r.vpcs.values()],
        subnets: this.describeSubnets({ provider: r.provider, regionId: r.id }).map((s) => ({ ...s, used: [...(r.subnets.get(s.id)?.used ?? [])].sort() })),
        securityGroups: [...r.securityGroups].map(([id, vpcId]) => ({ id, vpcId })),
        instanceTypes: [...r.instanceTypes.values()],
        instances: [...r.instances.values()],
        enis: [...r.enis.values()],
        tasks: r.tasks.size,
      })),
      delays: this.delays,
      clientTokens: this.tokens.size,
      staleDescribesUntil: this.stale ? new Date(this.stale.until).toISOString() : null,
    };
  }

  // ---- internals ----------------------------------------------------------------

  private region(scope: Scope): Region {
    const region = this.regions.get(`${scope.provider}:${scope.regionId}`);
    if (!region) throw new SimError('InvalidRegion', `region ${scope.regionId} does not exist`, 'RegionId');
    this.settle(region);
    return region;
  }

  private eni(region: Region, id: string): SimENI {
    const eni = region.enis.get(id);
    if (!eni) throw new SimError('EniNotFound', `ENI ${id} not found`, 'NetworkInterfaceId');
    return eni;
  }

  private instance(region: Region, id: string): SimInstance {
    const inst = region.instances.get(id);
    if (!inst) throw new SimError('InstanceNotFound', `instance ${id} not found`, 'InstanceId');
    return inst;
  }

  private visibleENIs(region: Region): Map<string, SimENI> {
    if (this.stale && this.now() < this.stale.until) return this.stale.regions.get(`${region.provider}:${region.id}`) ?? region.enis;
    if (this.stale) this.stale = undefined;
    return region.enis;
  }

  private ipLimit(region: Region, eni: SimENI): number {
    if (!eni.instanceId) return this.maxIPsPerDetachedENI;
    const inst = region.instances.get(eni.instanceId)!;
    return region.instanceTypes.get(inst.type)!.ipsPerENI;
  }

  private addTask(region: Region, id: string, at: number): void {
    region.tasks.set(id, { id, regionId: region.id, status: 'RUNNING', at });
  }

  private settleAll(): void {
    for (const r of this.regions.values()) this.settle(r);
  }

  /** Applies every transition and task whose time has come. */
  private settle(region: Region): void {
    const now = this.now();
    for (const eni of [...region.enis.values()]) {
      if (!eni.pending || eni.pending.at > now) continue;
      const to = eni.pending.to;
      delete eni.pending;
      if (to === 'Deleted') {
        region.enis.delete(eni.id);
        const subnet = region.subnets.get(eni.subnetId)!;
        for (const ip of [eni.primaryIP, ...eni.secondaryIPs]) subnet.used.delete(ip);
        this.emit('deleted', clone(eni));
      } else if (to === 'Available') {
        const from = eni.instanceId!;
        eni.status = 'Available';
        delete eni.instanceId;
        delete eni.deviceIndex;
        this.emit('detached', clone(eni), from);
      } else {
        eni.status = to;
        if (to === 'InUse') this.emit('attached', clone(eni), clone(region.instances.get(eni.instanceId!)!));
      }
    }
    for (const task of region.tasks.values()) if (task.status === 'RUNNING' && task.at <= now) task.status = 'SUCCESS';
  }

  private makeSubnet(region: Region, vpcId: string, id: string, zone: string, cidrText: string, name?: string): SimSubnet {
    const cidr = parseCidr(cidrText);
    const last = cidr.base + cidr.size - 1;
    // Alibaba keeps the first and the last three addresses of a vSwitch (its
    // gateway is the third from last); Tencent the first two (gateway .1) and the last.
    const reservedInts = region.provider === 'alibaba' ? [cidr.base, last - 2, last - 1, last] : [cidr.base, cidr.base + 1, last];
    const gateway = region.provider === 'alibaba' ? last - 2 : cidr.base + 1;
    return {
      id,
      provider: region.provider,
      regionId: region.id,
      vpcId,
      zone,
      cidr: cidr.text,
      gateway: intToIp(gateway),
      ...(name ? { name } : {}),
      reserved: reservedInts.map(intToIp),
      used: new Set(),
    };
  }

  /** Reserves `count` free addresses plus the `wanted` ones, or throws without reserving any. */
  private pickIPs(subnet: SimSubnet, count: number, wanted: string[]): string[] {
    const cidr: Cidr = parseCidr(subnet.cidr);
    for (const ip of wanted) {
      if (!cidrContains(cidr, ip)) throw new SimError('InvalidParameter', `${ip} is not in subnet ${subnet.id} (${subnet.cidr})`, 'PrivateIpAddress');
      if (subnet.used.has(ip) || subnet.reserved.includes(ip)) throw new SimError('IpAlreadyAssigned', `${ip} is already in use`, 'PrivateIpAddress');
    }
    if (new Set(wanted).size !== wanted.length) throw new SimError('InvalidParameter', 'an address is listed twice', 'PrivateIpAddress');
    const free = cidr.size - subnet.reserved.length - subnet.used.size - wanted.length;
    if (count > free) throw new SimError('SubnetExhausted', `subnet ${subnet.id} has ${Math.max(0, free)} free IPs, ${count} requested`);
    const picked: string[] = [];
    for (let n = cidr.base; picked.length < count && n < cidr.base + cidr.size; n++) {
      const ip = intToIp(n);
      if (!subnet.used.has(ip) && !subnet.reserved.includes(ip) && !wanted.includes(ip)) picked.push(ip);
    }
    const all = [...wanted, ...picked];
    for (const ip of all) subnet.used.add(ip);
    return all;
  }

  private makeENI(region: Region, subnet: SimSubnet, ips: string[], input: { tags?: Record<string, string>; securityGroupIds?: string[]; name?: string; description?: string }): SimENI {
    const n = ++this.counter;
    const addresses = ips.length > 0 ? ips : this.pickIPs(subnet, 1, []);
    const id = region.provider === 'alibaba' ? `eni-${subnet.zone.slice(-1)}${n.toString(36).padStart(19, '0')}` : `eni-${n.toString(36).padStart(8, '0')}`;
    const mac = `${MAC_PREFIX[region.provider]}:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    const eni: SimENI = {
      id,
      provider: region.provider,
      regionId: region.id,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      zone: subnet.zone,
      mac,
      primaryIP: addresses[0]!,
      secondaryIPs: addresses.slice(1),
      securityGroupIds: [...(input.securityGroupIds ?? [])],
      tags: { ...(input.tags ?? {}) },
      status: 'Available',
      primary: false,
      ...(input.name ? { name: input.name } : {}),
      ...(input.description ? { description: input.description } : {}),
      createdAt: new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    region.enis.set(id, eni);
    return eni;
  }
}
