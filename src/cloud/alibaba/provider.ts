// CloudProvider for Alibaba Cloud on the official SDKs: ECS for ENIs and
// instances, VPC for vSwitches. Every call goes through the CloudCaller
// (rate limit, retries, metrics); asynchronous operations resolve only once
// DescribeNetworkInterfaces shows them settled.
import * as ecs from '@alicloud/ecs20140526';
import * as vpc from '@alicloud/vpc20160428';
import { CloudCaller } from '../caller.js';
import { CloudError } from '../errors.js';
import type { ProviderOptions } from '../options.js';
import { DEFAULT_POLL, pollUntil, type PollPolicy } from '../poll.js';
import { MAX_IPS_PER_CALL, type CloudENI, type CloudInstance, type CloudProvider, type CloudSubnet, type CreateENIRequest, type ENIFilter, type InstanceLimits } from '../types.js';
import { classifyAlibabaError } from './classify.js';
import { createClients, type EcsClient, type VpcClient } from './clients.js';
import { clientToken, toCloudENI, toCloudInstance, toCloudSubnet } from './map.js';

/** MaxResults per DescribeNetworkInterfaces page (the API allows 10-500). */
export const ENI_PAGE_SIZE = 100;
/** Most NetworkInterfaceId.N values one DescribeNetworkInterfaces call takes. */
const MAX_IDS_PER_DESCRIBE = 100;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const isKind = (err: unknown, ...kinds: CloudError['kind'][]): err is CloudError => err instanceof CloudError && kinds.includes(err.kind);

export class AlibabaProvider implements CloudProvider {
  readonly type = 'alibaba' as const;
  readonly region: string;
  readonly caller: CloudCaller;
  private readonly ecs: EcsClient;
  private readonly vpc: VpcClient;
  private readonly poll: PollPolicy;
  private readonly limits = new Map<string, InstanceLimits>();

  constructor(opts: ProviderOptions) {
    this.region = opts.region;
    ({ ecs: this.ecs, vpc: this.vpc } = createClients(opts));
    this.poll = { ...DEFAULT_POLL, ...opts.poll };
    this.caller = new CloudCaller({
      provider: 'alibaba',
      qps: opts.rateLimit.qps,
      burst: opts.rateLimit.burst,
      retry: opts.retry,
      classify: classifyAlibabaError,
      secrets: opts.credentials.sensitive,
      metrics: opts.metrics,
    });
  }

  async describeInstance(instanceId: string): Promise<CloudInstance> {
    const req = new ecs.DescribeInstancesRequest({ regionId: this.region, instanceIds: JSON.stringify([instanceId]) });
    const res = await this.caller.call('DescribeInstances', () => this.ecs.describeInstances(req));
    const found = res.body?.instances?.instance?.find((i) => i.instanceId === instanceId);
    if (!found) throw new CloudError('NotFound', 'alibaba', 'DescribeInstances', 'InvalidInstanceId.NotFound', `instance ${instanceId} not found`);
    return toCloudInstance(found);
  }

  async instanceLimits(instance: { id: string; type: string }): Promise<InstanceLimits> {
    const cached = this.limits.get(instance.type);
    if (cached) return cached;
    const req = new ecs.DescribeInstanceTypesRequest({ instanceTypes: [instance.type] });
    const res = await this.caller.call('DescribeInstanceTypes', () => this.ecs.describeInstanceTypes(req));
    const t = res.body?.instanceTypes?.instanceType?.find((x) => x.instanceTypeId === instance.type);
    if (!t?.eniQuantity || !t.eniPrivateIpAddressQuantity) {
      throw new CloudError('NotFound', 'alibaba', 'DescribeInstanceTypes', 'InvalidInstanceType.NotFound', `instance type ${instance.type} (of ${instance.id}) has no ENI limits`);
    }
    const limits = { maxENIs: t.eniQuantity, ipsPerENI: t.eniPrivateIpAddressQuantity };
    this.limits.set(instance.type, limits);
    return limits;
  }

  async describeSubnets(ids: string[]): Promise<CloudSubnet[]> {
    // DescribeVSwitches takes one VSwitchId; unknown IDs come back as an empty page.
    const found = await Promise.all(
      [...new Set(ids)].map(async (id) => {
        const req = new vpc.DescribeVSwitchesRequest({ regionId: this.region, vSwitchId: id, pageSize: 50 });
        const res = await this.caller.call('DescribeVSwitches', () => this.vpc.describeVSwitches(req));
        return (res.body?.vSwitches?.vSwitch ?? []).filter((s) => s.vSwitchId === id).map(toCloudSubnet);
      }),
    );
    return found.flat();
  }

  async createENI(r: CreateENIRequest): Promise<CloudENI> {
    // Built once: every retry carries the same ClientToken, so a lost answer never makes a second ENI.
    const req = new ecs.CreateNetworkInterfaceRequest({
      regionId: this.region,
      vSwitchId: r.subnetId,
      securityGroupIds: r.securityGroupIds,
      tag: Object.entries(r.tags).map(([key, value]) => new ecs.CreateNetworkInterfaceRequestTag({ key, value })),
      clientToken: clientToken(r.idempotencyKey),
      ...(r.secondaryIPCount ? { secondaryPrivateIpAddressCount: r.secondaryIPCount } : {}),
      ...(r.name ? { networkInterfaceName: r.name } : {}),
      ...(r.description ? { description: r.description } : {}),
    });
    const res = await this.caller.call('CreateNetworkInterface', () => this.ecs.createNetworkInterface(req));
    const id = res.body?.networkInterfaceId;
    if (!id) throw new CloudError('Unknown', 'alibaba', 'CreateNetworkInterface', 'EmptyResponse', 'no NetworkInterfaceId in the response');
    if (res.body?.status === 'Available') return toCloudENI(res.body);
    return this.waitFor('CreateNetworkInterface', id, 'to be Available', (e) => (e?.state === 'Available' ? e : undefined));
  }

  async attachENI(eniId: string, instanceId: string): Promise<CloudENI> {
    const req = new ecs.AttachNetworkInterfaceRequest({ regionId: this.region, networkInterfaceId: eniId, instanceId });
    try {
      await this.caller.call('AttachNetworkInterface', () => this.ecs.attachNetworkInterface(req));
    } catch (err) {
      // A retried attach whose first answer was lost finds the ENI already on its way to this instance.
      if (!isKind(err, 'InvalidState')) throw err;
      const now = await this.describeOne(eniId);
      if (now?.instanceId !== instanceId || (now.state !== 'Attaching' && now.state !== 'InUse')) throw err;
    }
    return this.waitFor('AttachNetworkInterface', eniId, `to be InUse on ${instanceId}`, (e) => {
      if (!e) throw new CloudError('NotFound', 'alibaba', 'AttachNetworkInterface', 'InvalidEniId.NotFound', `ENI ${eniId} disappeared while attaching`);
      return e.state === 'InUse' && e.instanceId === instanceId ? e : undefined;
    });
  }

  async detachENI(eniId: string, instanceId: string): Promise<void> {
    const req = new ecs.DetachNetworkInterfaceRequest({ regionId: this.region, networkInterfaceId: eniId, instanceId });
    try {
      await this.caller.call('DetachNetworkInterface', () => this.ecs.detachNetworkInterface(req));
    } catch (err) {
      if (isKind(err, 'NotFound')) return;
      if (!isKind(err, 'InvalidState')) throw err;
      // Not attached (to this instance) counts as done; a detach already under way is waited for.
      const now = await this.describeOne(eniId);
      if (!now || now.instanceId !== instanceId || now.state === 'Available') return;
      if (now.state !== 'Detaching') throw err;
    }
    await this.waitFor('DetachNetworkInterface', eniId, 'to be detached', (e) => (!e || e.state === 'Available' || e.instanceId !== instanceId ? true : undefined));
  }

  async deleteENI(eniId: string): Promise<void> {
    const req = new ecs.DeleteNetworkInterfaceRequest({ regionId: this.region, networkInterfaceId: eniId });
    try {
      await this.caller.call('DeleteNetworkInterface', () => this.ecs.deleteNetworkInterface(req));
    } catch (err) {
      if (isKind(err, 'NotFound')) return;
      if (!isKind(err, 'InvalidState')) throw err;
      const now = await this.describeOne(eniId);
      if (!now) return;
      if (now.state !== 'Deleting') throw err;
    }
    await this.waitFor('DeleteNetworkInterface', eniId, 'to be deleted', (e) => (e ? undefined : true));
  }

  async assignIPs(eniId: string, count: number, idempotencyKey: string): Promise<string[]> {
    const sizes: number[] = [];
    for (let left = count; left > 0; left -= MAX_IPS_PER_CALL) sizes.push(Math.min(left, MAX_IPS_PER_CALL));
    const assigned: string[] = [];
    for (const [batch, n] of sizes.entries()) {
      const req = new ecs.AssignPrivateIpAddressesRequest({ regionId: this.region, networkInterfaceId: eniId, secondaryPrivateIpAddressCount: n, clientToken: clientToken(idempotencyKey, batch) });
      const res = await this.caller.call('AssignPrivateIpAddresses', () => this.ecs.assignPrivateIpAddresses(req));
      assigned.push(...(res.body?.assignedPrivateIpAddressesSet?.privateIpSet?.privateIpAddress ?? []));
    }
    return assigned;
  }

  async unassignIPs(eniId: string, ips: string[]): Promise<void> {
    for (const batch of chunks([...new Set(ips)], MAX_IPS_PER_CALL)) {
      let pending = batch;
      while (pending.length > 0) {
        const req = new ecs.UnassignPrivateIpAddressesRequest({ regionId: this.region, networkInterfaceId: eniId, privateIpAddress: pending });
        try {
          await this.caller.call('UnassignPrivateIpAddresses', () => this.ecs.unassignPrivateIpAddresses(req));
          break;
        } catch (err) {
          if (!isKind(err, 'NotFound')) throw err;
          // One address already gone refuses the whole call: retry with those still on the ENI.
          const now = await this.describeOne(eniId);
          if (!now) return;
          const left = pending.filter((ip) => now.secondaryIPs.includes(ip));
          if (left.length === pending.length) throw err;
          pending = left;
        }
      }
    }
  }

  async listENIs(filter: ENIFilter): Promise<CloudENI[]> {
    if (filter.ids && filter.ids.length === 0) return [];
    const idGroups = filter.ids ? chunks([...new Set(filter.ids)], MAX_IDS_PER_DESCRIBE) : [undefined];
    const out: CloudENI[] = [];
    for (const ids of idGroups) out.push(...(await this.listPages(filter, ids)));
    return out;
  }

  private async listPages(filter: ENIFilter, ids: string[] | undefined): Promise<CloudENI[]> {
    const out: CloudENI[] = [];
    let nextToken: string | undefined;
    do {
      const req = new ecs.DescribeNetworkInterfacesRequest({
        regionId: this.region,
        maxResults: ENI_PAGE_SIZE,
        ...(nextToken ? { nextToken } : {}),
        ...(ids ? { networkInterfaceId: ids } : {}),
        ...(filter.instanceId ? { instanceId: filter.instanceId } : {}),
        ...(filter.subnetId ? { vSwitchId: filter.subnetId } : {}),
        ...(filter.tags ? { tag: Object.entries(filter.tags).map(([key, value]) => new ecs.DescribeNetworkInterfacesRequestTag({ key, value })) } : {}),
      });
      const res = await this.caller.call('DescribeNetworkInterfaces', () => this.ecs.describeNetworkInterfaces(req));
      out.push(...(res.body?.networkInterfaceSets?.networkInterfaceSet ?? []).map(toCloudENI));
      nextToken = res.body?.nextToken || undefined;
    } while (nextToken);
    return out;
  }

  /** The ENI now, or undefined when it does not exist. */
  private async describeOne(eniId: string): Promise<CloudENI | undefined> {
    try {
      const [eni] = await this.listPages({}, [eniId]);
      return eni?.id === eniId ? eni : undefined;
    } catch (err) {
      if (isKind(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /** Polls the ENI until `settled` returns a value (it may throw to stop early). */
  private waitFor<T>(api: string, eniId: string, what: string, settled: (eni: CloudENI | undefined) => T | undefined): Promise<T> {
    return pollUntil('alibaba', api, `ENI ${eniId} ${what}`, async () => settled(await this.describeOne(eniId)), this.poll);
  }
}
