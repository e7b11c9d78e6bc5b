// The VPC and CVM actions the emulator answers. Each reads and checks all its
// parameters first (ParamError), then makes one world call (SimError), so a
// refused request never changes the world. Mutating VPC calls are
// asynchronous on Tencent: their RequestId is the task id that
// DescribeVpcTaskResult answers for.
import type { Scope, SimENI, World } from '../world.js';
import { badValue, notBoth, page, ParamError, type Filter, type Params } from './params.js';
import { privateIps, renderENI, renderInstance, renderSubnet } from './render.js';

export interface Ctx {
  world: World;
  scope: Scope;
  requestId: string;
}

interface Action {
  /** Every field the SDK model has; others are refused with UnknownParameter. */
  fields: readonly string[];
  run(ctx: Ctx, p: Params): Record<string, unknown>;
}

/** Most addresses one assign/unassign call takes (Tencent: "单次最多指定10个"). */
const MAX_IPS_PER_CALL = 10;
const MAX_IDS = 100;

/** Runs `fn` once per ClientToken; a repeat gets its own task id so it can be polled too. */
function withToken<T extends { taskId: string }>(ctx: Ctx, action: string, p: Params, fn: () => T): T {
  const token = p.str('ClientToken', { max: 64 });
  const result = ctx.world.idempotent(ctx.scope, action, token, p.without('ClientToken'), fn);
  if (result.taskId !== ctx.requestId) ctx.world.recordTask(ctx.scope, ctx.requestId);
  return result;
}

/** Filters AND together; the Values of one filter OR together. */
function matches(filters: Filter[], valuesOf: (name: string) => string[]): boolean {
  return filters.every((f) => {
    const have = valuesOf(f.name).map((v) => v.toLowerCase());
    return f.values.some((v) => have.includes(v.toLowerCase()));
  });
}

const ENI_FILTERS = [
  'vpc-id',
  'subnet-id',
  'network-interface-id',
  'attachment.instance-id',
  'groups.security-group-id',
  'network-interface-name',
  'network-interface-description',
  'address-ip',
  'tag-key',
  'tag:',
  'is-primary',
  'eni-type',
] as const;

function eniValues(eni: SimENI, name: string): string[] {
  switch (name) {
    case 'vpc-id':
      return [eni.vpcId];
    case 'subnet-id':
      return [eni.subnetId];
    case 'network-interface-id':
      return [eni.id];
    case 'attachment.instance-id':
      return eni.instanceId ? [eni.instanceId] : [];
    case 'groups.security-group-id':
      return eni.securityGroupIds;
    case 'network-interface-name':
      return eni.name ? [eni.name] : [];
    case 'network-interface-description':
      return eni.description ? [eni.description] : [];
    case 'address-ip': // exact match only (the real API also matches a suffix of a single address)
      return [eni.primaryIP, ...eni.secondaryIPs];
    case 'tag-key':
      return Object.keys(eni.tags);
    case 'is-primary':
      return [String(eni.primary)];
    case 'eni-type':
      return [eni.primary ? '1' : '0'];
    default: {
      const key = name.slice('tag:'.length);
      return key in eni.tags ? [eni.tags[key]!] : [];
    }
  }
}

const SUBNET_FILTERS = ['subnet-id', 'vpc-id', 'cidr-block', 'zone', 'subnet-name', 'is-default'] as const;
const INSTANCE_FILTERS = ['zone', 'instance-id', 'vpc-id', 'subnet-id', 'instance-name', 'instance-type', 'private-ip-address', 'instance-state'] as const;

const eniId = (p: Params) => p.str('NetworkInterfaceId', { required: true, max: 64 });

export const ACTIONS: Record<string, Action> = {
  CreateNetworkInterface: {
    fields: ['VpcId', 'NetworkInterfaceName', 'SubnetId', 'NetworkInterfaceDescription', 'SecondaryPrivateIpAddressCount', 'QosLevel', 'SecurityGroupIds', 'PrivateIpAddresses', 'Tags', 'TrunkingFlag', 'IsRdma', 'ClientToken'],
    run(ctx, p) {
      const vpcId = p.str('VpcId', { required: true });
      const name = p.str('NetworkInterfaceName', { required: true, max: 60 });
      const subnetId = p.str('SubnetId', { required: true });
      const description = p.str('NetworkInterfaceDescription', { max: 60 });
      const count = p.int('SecondaryPrivateIpAddressCount', { min: 0, max: MAX_IPS_PER_CALL });
      const ips = p.ipSpecs('PrivateIpAddresses', { max: MAX_IPS_PER_CALL });
      const securityGroupIds = p.strList('SecurityGroupIds', { max: 5 }) ?? [];
      const tags = p.tags('Tags');
      p.str('QosLevel');
      p.str('TrunkingFlag');
      p.bool('IsRdma');
      const subnets = ctx.world.describeSubnets(ctx.scope);
      if (!subnets.some((s) => s.vpcId === vpcId)) throw new ParamError('InvalidVpcId.NotFound', `The VPC \`${vpcId}\` does not exist.`);
      const subnet = subnets.find((s) => s.id === subnetId);
      if (subnet && subnet.vpcId !== vpcId) throw new ParamError('UnsupportedOperation.VpcMismatch', `The subnet \`${subnetId}\` is not in VPC \`${vpcId}\`.`);
      const result = withToken(ctx, 'CreateNetworkInterface', p, () => {
        // ipSpecs puts the address marked Primary (or the first) first.
        const [primaryIP, ...secondaryIPs] = ips ?? [];
        const eni = ctx.world.createENI(ctx.scope, {
          subnetId,
          securityGroupIds,
          ...(count !== undefined ? { secondaryIPCount: count } : {}),
          ...(primaryIP ? { primaryIP, secondaryIPs } : {}),
          ...(tags ? { tags } : {}),
          name,
          ...(description !== undefined ? { description } : {}),
        });
        ctx.world.recordTask(ctx.scope, ctx.requestId);
        return { eni, taskId: ctx.requestId };
      });
      return { NetworkInterface: renderENI(result.eni, true) };
    },
  },

  AttachNetworkInterface: {
    fields: ['NetworkInterfaceId', 'InstanceId', 'AttachType', 'ClientToken'],
    run(ctx, p) {
      const id = eniId(p);
      const instanceId = p.str('InstanceId', { required: true });
      if (p.int('AttachType', { min: 0, max: 1 })) throw badValue('AttachType', 'the emulator has only standard (0) attachments');
      const current = ctx.world.describeENIs(ctx.scope, { ids: [id] })[0];
      if (current?.instanceId === instanceId) throw new ParamError('UnsupportedOperation.AttachmentAlreadyExists', `ENI ${id} is already attached to ${instanceId}.`);
      withToken(ctx, 'AttachNetworkInterface', p, () => (ctx.world.attachENI(ctx.scope, id, instanceId, ctx.requestId), { taskId: ctx.requestId }));
      return {};
    },
  },

  DetachNetworkInterface: {
    fields: ['NetworkInterfaceId', 'InstanceId', 'ClientToken'],
    run(ctx, p) {
      const id = eniId(p);
      const instanceId = p.str('InstanceId', { required: true });
      withToken(ctx, 'DetachNetworkInterface', p, () => (ctx.world.detachENI(ctx.scope, id, instanceId, ctx.requestId), { taskId: ctx.requestId }));
      return {};
    },
  },

  DeleteNetworkInterface: {
    fields: ['NetworkInterfaceId'],
    run(ctx, p) {
      ctx.world.deleteENI(ctx.scope, eniId(p), ctx.requestId);
      return {};
    },
  },

  AssignPrivateIpAddresses: {
    fields: ['NetworkInterfaceId', 'PrivateIpAddresses', 'SecondaryPrivateIpAddressCount', 'QosLevel', 'ClientToken'],
    run(ctx, p) {
      const id = eniId(p);
      const ips = p.ipSpecs('PrivateIpAddresses', { max: MAX_IPS_PER_CALL }) ?? [];
      const count = p.int('SecondaryPrivateIpAddressCount', { min: 1, max: MAX_IPS_PER_CALL }) ?? 0;
      p.str('QosLevel');
      if (ips.length === 0 && count === 0) throw new ParamError('MissingParameter', 'The request is missing a required parameter `SecondaryPrivateIpAddressCount` or `PrivateIpAddresses`.');
      if (ips.length + count > MAX_IPS_PER_CALL) throw badValue('SecondaryPrivateIpAddressCount', `at most ${MAX_IPS_PER_CALL} addresses per call in all`, 'InvalidParameterValue.LimitExceeded');
      const result = withToken(ctx, 'AssignPrivateIpAddresses', p, () => ({
        added: ctx.world.assignIPs(ctx.scope, id, { count, ips }, ctx.requestId),
        taskId: ctx.requestId,
      }));
      return { PrivateIpAddressSet: privateIps(result.added, 'PENDING') };
    },
  },

  UnassignPrivateIpAddresses: {
    fields: ['NetworkInterfaceId', 'PrivateIpAddresses', 'InstanceId'],
    run(ctx, p) {
      const id = eniId(p);
      const ips = p.ipSpecs('PrivateIpAddresses', { required: true, max: MAX_IPS_PER_CALL })!;
      if (p.has('InstanceId')) throw badValue('InstanceId', 'unassigning and detaching in one call is not supported by the emulator');
      ctx.world.unassignIPs(ctx.scope, id, ips, ctx.requestId);
      return {};
    },
  },

  DescribeNetworkInterfaces: {
    fields: ['NetworkInterfaceIds', 'Filters', 'Offset', 'Limit'],
    run(ctx, p) {
      notBoth(p, 'NetworkInterfaceIds', 'Filters');
      const ids = p.strList('NetworkInterfaceIds', { max: MAX_IDS });
      const filters = p.filters('Filters', ENI_FILTERS) ?? [];
      const all = ctx.world.describeENIs(ctx.scope, ids ? { ids } : {}).filter((e) => matches(filters, (n) => eniValues(e, n)));
      return { NetworkInterfaceSet: page(p, all).map((e) => renderENI(e)), TotalCount: all.length };
    },
  },

  DescribeSubnets: {
    fields: ['SubnetIds', 'Filters', 'Offset', 'Limit', 'MaxResults', 'NextToken'],
    run(ctx, p) {
      notBoth(p, 'SubnetIds', 'Filters');
      const ids = p.strList('SubnetIds', { max: MAX_IDS });
      const filters = p.filters('Filters', SUBNET_FILTERS) ?? [];
      if (p.has('MaxResults') || p.has('NextToken')) throw badValue('NextToken', 'token paging is not supported by the emulator; use Offset and Limit');
      const all = ctx.world.describeSubnets(ctx.scope, ids ? { ids } : {}).filter((s) =>
        matches(filters, (n) => ({ 'subnet-id': [s.id], 'vpc-id': [s.vpcId], 'cidr-block': [s.cidr, s.cidr.split('/')[0]!], zone: [s.zone], 'subnet-name': s.name ? [s.name] : [], 'is-default': ['false'] })[n] ?? []),
      );
      return { TotalCount: all.length, SubnetSet: page(p, all, true).map(renderSubnet) };
    },
  },

  DescribeNetworkInterfaceLimit: {
    fields: ['InstanceId'],
    run(ctx, p) {
      const id = p.str('InstanceId', { required: true });
      // Both counts include the primary: the instance's primary ENI, and each ENI's primary IP.
      let limits = { maxENIs: 0, ipsPerENI: ctx.world.maxIPsPerDetachedENI };
      if (id.startsWith('eni-')) {
        const eni = ctx.world.describeENIs(ctx.scope, { ids: [id] })[0];
        if (!eni) throw new ParamError('ResourceNotFound', `ENI ${id} not found`);
        if (eni.instanceId) limits = ctx.world.instanceLimits(ctx.scope, eni.instanceId);
      } else {
        limits = ctx.world.instanceLimits(ctx.scope, id);
      }
      return {
        EniQuantity: limits.maxENIs,
        EniPrivateIpAddressQuantity: limits.ipsPerENI,
        ExtendEniQuantity: 0,
        ExtendEniPrivateIpAddressQuantity: 0,
        SubEniQuantity: 0,
        SubEniPrivateIpAddressQuantity: 0,
      };
    },
  },

  DescribeVpcTaskResult: {
    fields: ['TaskId'],
    run(ctx, p) {
      const task = ctx.world.task(ctx.scope, p.str('TaskId', { required: true }));
      return { Status: task.status, Output: '', Result: [] };
    },
  },

  // CVM
  DescribeInstances: {
    fields: ['InstanceIds', 'Filters', 'Offset', 'Limit'],
    run(ctx, p) {
      notBoth(p, 'InstanceIds', 'Filters');
      const ids = p.strList('InstanceIds', { max: MAX_IDS });
      const filters = p.filters('Filters', INSTANCE_FILTERS) ?? [];
      const primaries = new Map(ctx.world.describeENIs(ctx.scope, { primary: true }).map((e) => [e.id, e]));
      // Unknown (well-formed) ids are simply absent, as on CVM.
      const all = ctx.world
        .describeInstances(ctx.scope, ids)
        .map((i) => renderInstance(i, primaries.get(i.primaryENIId)))
        .filter((i) =>
          matches(filters, (n) => ({ zone: [i.Placement.Zone], 'instance-id': [i.InstanceId], 'vpc-id': [i.VirtualPrivateCloud.VpcId], 'subnet-id': [i.VirtualPrivateCloud.SubnetId], 'instance-name': [i.InstanceName], 'instance-type': [i.InstanceType], 'private-ip-address': i.PrivateIpAddresses, 'instance-state': [i.InstanceState] })[n] ?? []),
        );
      return { TotalCount: all.length, InstanceSet: page(p, all) };
    },
  },
};

/** The API version of both VPC and CVM. */
export const VERSION = '2017-03-12';
