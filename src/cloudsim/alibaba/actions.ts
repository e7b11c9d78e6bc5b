// The ECS and VPC actions the emulator speaks. Each handler reads and checks
// every parameter first (a ParamError leaves the world untouched), then makes
// one atomic world call, and returns the response body without RequestId.
import type { InstanceTypeSpec } from '../world-spec.js';
import type { EniStatus, Scope, World } from '../world.js';
import { pagingOf } from './paging.js';
import { invalidParameter, missingParameter, type Params } from './params.js';
import * as render from './render.js';

export interface ActionContext {
  world: World;
  scope: Scope;
  /** Where a region-less action looks: its scope, or every Alibaba region when none is named. */
  regions: Scope[];
  p: Params;
}

export type Handler = (ctx: ActionContext) => Record<string, unknown>;

export const ECS_VERSION = '2014-05-26';
export const VPC_VERSION = '2016-04-28';

/** Most IPs one AssignPrivateIpAddresses / UnassignPrivateIpAddresses call may carry. */
export const MAX_IPS_PER_CALL = 10;

const STATUSES: readonly EniStatus[] = ['Available', 'Attaching', 'InUse', 'Detaching', 'Deleting'];
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function ipList(p: Params, prefix: string): string[] {
  const ips = p.list(prefix, MAX_IPS_PER_CALL);
  ips.forEach((ip, i) => {
    if (!IPV4.test(ip)) throw invalidParameter(`${prefix}.${i + 1}`, `${ip} is not an IPv4 address`);
  });
  return ips;
}

const text = (p: Params, name: string, max: number) => p.matching(name, new RegExp(`^[^\\x00-\\x1f]{1,${max}}$`, 'u'), `at most ${max} characters`);

const createNetworkInterface: Handler = ({ world, scope, p }) => {
  const subnetId = p.required('VSwitchId');
  const groups = p.list('SecurityGroupIds', 10);
  const single = p.optional('SecurityGroupId');
  if (groups.length > 0 && single !== undefined) throw invalidParameter('SecurityGroupId', 'give SecurityGroupId or SecurityGroupIds.N, not both');
  const securityGroupIds = groups.length > 0 ? groups : single !== undefined ? [single] : undefined;
  if (!securityGroupIds) throw missingParameter('SecurityGroupIds.1');
  const count = p.int('SecondaryPrivateIpAddressCount', 1, 49);
  for (const unsupported of ['PrimaryIpAddress', 'PrivateIpAddress.1', 'Ipv6AddressCount', 'Ipv4PrefixCount']) {
    if (p.optional(unsupported) !== undefined) throw invalidParameter(unsupported, 'not supported by the emulator');
  }
  const tags = p.tags('Tag', 20);
  const name = text(p, 'NetworkInterfaceName', 128);
  const description = text(p, 'Description', 256);
  const token = p.clientToken();
  const input = { subnetId, securityGroupIds, tags, ...(count ? { secondaryIPCount: count } : {}), ...(name ? { name } : {}), ...(description ? { description } : {}) };
  return world.idempotent(scope, 'CreateNetworkInterface', token, input, () => render.createdEni(world.createENI(scope, input)));
};

const attachNetworkInterface: Handler = ({ world, scope, p }) => {
  const eniId = p.required('NetworkInterfaceId');
  const instanceId = p.required('InstanceId');
  if (p.optional('TrunkNetworkInstanceId') !== undefined) throw invalidParameter('TrunkNetworkInstanceId', 'not supported by the emulator');
  world.attachENI(scope, eniId, instanceId);
  return {};
};

const detachNetworkInterface: Handler = ({ world, scope, p }) => {
  const eniId = p.required('NetworkInterfaceId');
  const instanceId = p.required('InstanceId');
  const token = p.clientToken();
  return world.idempotent(scope, 'DetachNetworkInterface', token, { eniId, instanceId }, () => {
    world.detachENI(scope, eniId, instanceId);
    return {};
  });
};

const deleteNetworkInterface: Handler = ({ world, scope, p }) => {
  const eniId = p.required('NetworkInterfaceId');
  world.deleteENI(scope, eniId);
  return {};
};

const assignPrivateIpAddresses: Handler = ({ world, scope, p }) => {
  const eniId = p.required('NetworkInterfaceId');
  const count = p.int('SecondaryPrivateIpAddressCount', 1, MAX_IPS_PER_CALL);
  const ips = ipList(p, 'PrivateIpAddress');
  if (count !== undefined && ips.length > 0) throw invalidParameter('SecondaryPrivateIpAddressCount', 'give SecondaryPrivateIpAddressCount or PrivateIpAddress.N, not both');
  if (count === undefined && ips.length === 0) throw missingParameter('SecondaryPrivateIpAddressCount');
  const token = p.clientToken();
  const input = count !== undefined ? { count } : { ips };
  return world.idempotent(scope, 'AssignPrivateIpAddresses', token, { eniId, ...input }, () => ({
    AssignedPrivateIpAddressesSet: { NetworkInterfaceId: eniId, PrivateIpSet: { PrivateIpAddress: world.assignIPs(scope, eniId, input) } },
  }));
};

const unassignPrivateIpAddresses: Handler = ({ world, scope, p }) => {
  const eniId = p.required('NetworkInterfaceId');
  const ips = ipList(p, 'PrivateIpAddress');
  if (ips.length === 0) throw missingParameter('PrivateIpAddress.1');
  if (new Set(ips).size !== ips.length) throw invalidParameter('PrivateIpAddress', 'an address is listed twice');
  const token = p.clientToken();
  return world.idempotent(scope, 'UnassignPrivateIpAddresses', token, { eniId, ips }, () => {
    world.unassignIPs(scope, eniId, ips);
    return {};
  });
};

const describeNetworkInterfaces: Handler = ({ world, scope, p }) => {
  const ids = p.list('NetworkInterfaceId', 100);
  const instanceId = p.optional('InstanceId');
  const subnetId = p.optional('VSwitchId');
  const vpcId = p.optional('VpcId');
  const status = p.oneOf('Status', STATUSES);
  const type = p.oneOf('Type', ['Primary', 'Secondary'] as const);
  const tags = p.tags('Tag', 20);
  const ips = p.list('PrivateIpAddress', 100);
  const page = pagingOf(p, { pageSizeMax: 1000, token: { min: 10, max: 500 } });
  let all = world.describeENIs(scope, {
    ...(ids.length > 0 ? { ids } : {}),
    ...(instanceId !== undefined ? { instanceId } : {}),
    ...(subnetId !== undefined ? { subnetId } : {}),
    ...(vpcId !== undefined ? { vpcId } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(type !== undefined ? { primary: type === 'Primary' } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  });
  if (ips.length > 0) all = all.filter((e) => [e.primaryIP, ...e.secondaryIPs].some((ip) => ips.includes(ip)));
  const { items, fields } = page(all);
  return { ...fields, NetworkInterfaceSets: { NetworkInterfaceSet: items.map(render.describedEni) } };
};

// The SDK sends no RegionId here: instance types are global (the endpoint names the region).
const describeInstanceTypes: Handler = ({ world, regions, p }) => {
  const types = p.list('InstanceTypes', 10);
  const family = p.optional('InstanceTypeFamily');
  p.int('MaxResults', 1, 1600);
  const found = new Map<string, InstanceTypeSpec>();
  for (const scope of regions) {
    for (const t of world.instanceTypes(scope, types.length > 0 ? types : undefined)) if (!found.has(t.type)) found.set(t.type, t);
  }
  const all = [...found.values()].filter((t) => family === undefined || t.type.startsWith(`${family}.`));
  return { NextToken: '', InstanceTypes: { InstanceType: all.map(render.instanceType) } };
};

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const describeInstances: Handler = ({ world, scope, p }) => {
  const ids = p.jsonList('InstanceIds', 100);
  const vpcId = p.optional('VpcId');
  const subnetId = p.optional('VSwitchId');
  const zone = p.optional('ZoneId');
  const type = p.optional('InstanceType');
  const status = p.optional('Status');
  const page = pagingOf(p, { pageSizeMax: 100, token: { min: 1, max: 100 } });
  const all = world
    .describeInstances(scope, ids)
    .filter((i) => (vpcId === undefined || i.vpcId === vpcId) && (subnetId === undefined || i.subnetId === subnetId) && (zone === undefined || i.zone === zone))
    .filter((i) => (type === undefined || i.type === type) && (status === undefined || i.status === status))
    .sort(byId);
  const { items, fields } = page(all);
  const rendered = items.map((i) => render.instance(i, world.describeENIs(scope, { instanceId: i.id }).sort((a, b) => Number(b.primary) - Number(a.primary))));
  return { ...fields, Instances: { Instance: rendered } };
};

const describeVSwitches: Handler = ({ world, scope, p }) => {
  const id = p.optional('VSwitchId');
  const vpcId = p.optional('VpcId');
  const zone = p.optional('ZoneId');
  const page = pagingOf(p, { pageSizeMax: 50 });
  const all = world.describeSubnets(scope, { ...(id !== undefined ? { ids: [id] } : {}), ...(vpcId !== undefined ? { vpcId } : {}), ...(zone !== undefined ? { zone } : {}) }).sort(byId);
  const { items, fields } = page(all);
  return { ...fields, VSwitches: { VSwitch: items.map(render.vSwitch) } };
};

/** version -> action -> handler. ECS and VPC share some names, so both keys count. */
export const ACTIONS: Record<string, Record<string, Handler>> = {
  [ECS_VERSION]: {
    CreateNetworkInterface: createNetworkInterface,
    AttachNetworkInterface: attachNetworkInterface,
    DetachNetworkInterface: detachNetworkInterface,
    DeleteNetworkInterface: deleteNetworkInterface,
    AssignPrivateIpAddresses: assignPrivateIpAddresses,
    UnassignPrivateIpAddresses: unassignPrivateIpAddresses,
    DescribeNetworkInterfaces: describeNetworkInterfaces,
    DescribeInstanceTypes: describeInstanceTypes,
    DescribeInstances: describeInstances,
  },
  [VPC_VERSION]: {
    DescribeVSwitches: describeVSwitches,
  },
};

/** Actions whose SDK request has no RegionId. */
export const REGIONLESS: ReadonlySet<string> = new Set(['DescribeInstanceTypes']);

/** The product a version belongs to, for HostId and Recommend. */
export const PRODUCT: Record<string, { name: string; host: string }> = {
  [ECS_VERSION]: { name: 'Ecs', host: 'ecs' },
  [VPC_VERSION]: { name: 'Vpc', host: 'vpc' },
};
