// CloudProvider for Tencent Cloud on the official SDK. Every SDK call goes
// through the CloudCaller (token bucket, retries, metrics). Mutations are
// asynchronous on Tencent: each returns only once settled, by polling
// DescribeVpcTaskResult for the call's RequestId, then the ENI itself.
import { createHash } from 'node:crypto';
import type { NetworkInterface } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { CloudCaller } from '../caller.js';
import { CloudError } from '../errors.js';
import type { ProviderOptions } from '../options.js';
import { DEFAULT_POLL, pollUntil, type PollPolicy } from '../poll.js';
import { MAX_IPS_PER_CALL, type CloudENI, type CloudInstance, type CloudProvider, type CloudSubnet, type CreateENIRequest, type ENIFilter, type InstanceLimits } from '../types.js';
import { classifyTencent } from './classify.js';
import { createClients, type TencentClients } from './clients.js';
import { toCloudENI, toCloudInstance, toCloudSubnet } from './convert.js';

/** DescribeNetworkInterfaces page size (the API's maximum). */
export const PAGE_SIZE = 100;
/** Most ids one Describe call takes. */
const MAX_IDS = 100;

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** A ClientToken (≤ 64 ASCII characters) for a key: the key itself when it fits. */
export function clientToken(key: string): string {
  return /^[\x21-\x7e]{1,64}$/.test(key) ? key : createHash('sha256').update(key).digest('hex');
}

const codeOf = (err: unknown): string | undefined => (err instanceof CloudError ? err.code : (err as { code?: unknown })?.code as string | undefined);

export class TencentProvider implements CloudProvider {
  readonly type = 'tencent' as const;
  readonly region: string;
  private readonly clients: TencentClients;
  private readonly caller: CloudCaller;
  private readonly poll: PollPolicy;
  private readonly subnetVpc = new Map<string, string>();

  constructor(private readonly opts: ProviderOptions) {
    this.region = opts.region;
    this.clients = createClients(opts);
    this.poll = { ...DEFAULT_POLL, ...opts.poll };
    this.caller = new CloudCaller({
      provider: 'tencent',
      qps: opts.rateLimit.qps,
      burst: opts.rateLimit.burst,
      ...(opts.retry ? { retry: opts.retry } : {}),
      classify: classifyTencent,
      secrets: opts.credentials.sensitive,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
  }

  private get vpc() {
    return this.clients.vpc;
  }

  async describeInstance(instanceId: string): Promise<CloudInstance> {
    const res = await this.caller.call('DescribeInstances', () => this.clients.cvm.DescribeInstances({ InstanceIds: [instanceId] }));
    const inst = res.InstanceSet?.find((i) => i.InstanceId === instanceId);
    if (!inst) throw new CloudError('NotFound', 'tencent', 'DescribeInstances', 'InvalidInstanceId.NotFound', `instance ${instanceId} not found`, res.RequestId);
    return toCloudInstance(inst);
  }

  /** Both counts include the primary (the primary ENI, each ENI's primary IP), as Tencent counts them. */
  async instanceLimits(instance: { id: string; type: string }): Promise<InstanceLimits> {
    const res = await this.caller.call('DescribeNetworkInterfaceLimit', () => this.vpc.DescribeNetworkInterfaceLimit({ InstanceId: instance.id }));
    return { maxENIs: res.EniQuantity ?? 0, ipsPerENI: res.EniPrivateIpAddressQuantity ?? 0 };
  }

  async describeSubnets(ids: string[]): Promise<CloudSubnet[]> {
    const out: CloudSubnet[] = [];
    for (const batch of chunks([...new Set(ids)], MAX_IDS)) {
      const res = await this.caller.call('DescribeSubnets', () => this.vpc.DescribeSubnets({ SubnetIds: batch, Limit: String(MAX_IDS) })).catch(async (err: unknown) => {
        // If the API refuses a batch for an unknown id, ask one by one and leave the unknown out.
        if (!(err instanceof CloudError && err.kind === 'NotFound' && batch.length > 1)) throw err;
        return { SubnetSet: (await Promise.all(batch.map((id) => this.describeSubnets([id]).catch(() => [])))).flat().map((s) => ({ SubnetId: s.id, Zone: s.zone, VpcId: s.vpcId, CidrBlock: s.cidr, AvailableIpAddressCount: s.availableIPs })) };
      });
      out.push(...(res.SubnetSet ?? []).map(toCloudSubnet));
    }
    for (const s of out) this.subnetVpc.set(s.id, s.vpcId);
    return out;
  }

  async createENI(req: CreateENIRequest): Promise<CloudENI> {
    const vpcId = this.opts.vpcId ?? (await this.vpcOf(req.subnetId));
    // Built once: every retry carries the same ClientToken, so a lost answer never makes a second ENI.
    const request = {
      VpcId: vpcId,
      SubnetId: req.subnetId,
      NetworkInterfaceName: (req.name ?? 'eni-operator').slice(0, 60),
      ...(req.description ? { NetworkInterfaceDescription: req.description.slice(0, 60) } : {}),
      ...(req.secondaryIPCount ? { SecondaryPrivateIpAddressCount: req.secondaryIPCount } : {}),
      SecurityGroupIds: req.securityGroupIds,
      Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })),
      ClientToken: clientToken(req.idempotencyKey),
    };
    const res = await this.caller.call('CreateNetworkInterface', () => this.vpc.CreateNetworkInterface(request));
    const id = res.NetworkInterface?.NetworkInterfaceId;
    if (!id) throw new CloudError('ServerError', 'tencent', 'CreateNetworkInterface', 'NoNetworkInterface', 'the answer names no ENI', res.RequestId);
    await this.waitTask('CreateNetworkInterface', res.RequestId);
    return this.waitENI(id, `ENI ${id} to become available`, (ni) => (ni?.State === 'AVAILABLE' ? toCloudENI(ni) : undefined));
  }

  async attachENI(eniId: string, instanceId: string): Promise<CloudENI> {
    const taskId = await this.caller.call('AttachNetworkInterface', async () => {
      try {
        return (await this.vpc.AttachNetworkInterface({ NetworkInterfaceId: eniId, InstanceId: instanceId })).RequestId;
      } catch (err) {
        // A retry after a lost answer: the first attempt is under way or done.
        if (codeOf(err) === 'UnsupportedOperation.AttachmentAlreadyExists') return undefined;
        throw err;
      }
    });
    await this.waitTask('AttachNetworkInterface', taskId);
    return this.waitENI(eniId, `ENI ${eniId} to attach to ${instanceId}`, (ni) => {
      if (!ni) throw new CloudError('NotFound', 'tencent', 'AttachNetworkInterface', 'ResourceNotFound', `ENI ${eniId} disappeared while attaching`);
      return ni.State === 'AVAILABLE' && ni.Attachment?.InstanceId === instanceId ? toCloudENI(ni) : undefined;
    });
  }

  async detachENI(eniId: string, instanceId: string): Promise<void> {
    const taskId = await this.caller.call('DetachNetworkInterface', async () => {
      try {
        return (await this.vpc.DetachNetworkInterface({ NetworkInterfaceId: eniId, InstanceId: instanceId })).RequestId;
      } catch (err) {
        const kind = classifyTencent(err, 'DetachNetworkInterface').kind;
        // Not attached (to this instance), or gone: nothing to detach.
        if (kind === 'NotFound') return undefined;
        throw err;
      }
    });
    await this.waitTask('DetachNetworkInterface', taskId);
    await this.waitENI(eniId, `ENI ${eniId} to detach from ${instanceId}`, (ni) => (!ni || (ni.State !== 'DETACHING' && ni.Attachment?.InstanceId !== instanceId) ? true : undefined));
  }

  async deleteENI(eniId: string): Promise<void> {
    const taskId = await this.caller.call('DeleteNetworkInterface', async () => {
      try {
        return (await this.vpc.DeleteNetworkInterface({ NetworkInterfaceId: eniId })).RequestId;
      } catch (err) {
        if (classifyTencent(err, 'DeleteNetworkInterface').kind === 'NotFound') return undefined;
        throw err;
      }
    });
    await this.waitTask('DeleteNetworkInterface', taskId);
    await this.waitENI(eniId, `ENI ${eniId} to be deleted`, (ni) => (ni ? undefined : true));
  }

  async assignIPs(eniId: string, count: number, idempotencyKey: string): Promise<string[]> {
    const added: string[] = [];
    for (let batch = 0, left = count; left > 0; batch++, left -= MAX_IPS_PER_CALL) {
      const request = { NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: Math.min(left, MAX_IPS_PER_CALL), ClientToken: clientToken(`${idempotencyKey}/${batch}`) };
      const res = await this.caller.call('AssignPrivateIpAddresses', () => this.vpc.AssignPrivateIpAddresses(request));
      await this.waitTask('AssignPrivateIpAddresses', res.RequestId);
      added.push(...(res.PrivateIpAddressSet ?? []).map((ip) => ip.PrivateIpAddress ?? '').filter(Boolean));
    }
    return added;
  }

  async unassignIPs(eniId: string, ips: string[]): Promise<void> {
    // Only what the ENI still holds: an address already gone counts as done.
    for (let round = 0; ; round++) {
      const ni = await this.describeENI(eniId);
      if (!ni) return;
      const held = new Set((ni.PrivateIpAddressSet ?? []).map((ip) => ip.PrivateIpAddress));
      const todo = [...new Set(ips)].filter((ip) => held.has(ip));
      if (todo.length === 0) return;
      try {
        for (const batch of chunks(todo, MAX_IPS_PER_CALL)) {
          const request = { NetworkInterfaceId: eniId, PrivateIpAddresses: batch.map((PrivateIpAddress) => ({ PrivateIpAddress })) };
          const res = await this.caller.call('UnassignPrivateIpAddresses', () => this.vpc.UnassignPrivateIpAddresses(request));
          await this.waitTask('UnassignPrivateIpAddresses', res.RequestId);
        }
        return;
      } catch (err) {
        // Someone else removed an address of the batch meanwhile: look again (a few times at most).
        if (!(err instanceof CloudError && err.kind === 'NotFound') || round >= 3) throw err;
      }
    }
  }

  async listENIs(filter: ENIFilter): Promise<CloudENI[]> {
    const filters = [
      ...(filter.instanceId ? [{ Name: 'attachment.instance-id', Values: [filter.instanceId] }] : []),
      ...(filter.subnetId ? [{ Name: 'subnet-id', Values: [filter.subnetId] }] : []),
      ...Object.entries(filter.tags ?? {}).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
    ];
    if (filter.ids) {
      // The API takes ids or filters, not both: ask by id, filter here.
      const found: NetworkInterface[] = [];
      for (const batch of chunks([...new Set(filter.ids)], MAX_IDS)) found.push(...(await this.pages({ NetworkInterfaceIds: batch })));
      return found.map(toCloudENI).filter((e) => matchesFilter(e, filter));
    }
    return (await this.pages(filters.length > 0 ? { Filters: filters } : {})).map(toCloudENI);
  }

  /** Every page of a DescribeNetworkInterfaces query, without duplicates. */
  private async pages(query: { NetworkInterfaceIds?: string[]; Filters?: { Name: string; Values: string[] }[] }): Promise<NetworkInterface[]> {
    const seen = new Map<string, NetworkInterface>();
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const res = await this.caller.call('DescribeNetworkInterfaces', () => this.vpc.DescribeNetworkInterfaces({ ...query, Offset: offset, Limit: PAGE_SIZE }));
      const set = res.NetworkInterfaceSet ?? [];
      for (const ni of set) if (ni.NetworkInterfaceId) seen.set(ni.NetworkInterfaceId, ni);
      if (set.length < PAGE_SIZE || offset + PAGE_SIZE >= (res.TotalCount ?? 0)) return [...seen.values()];
    }
  }

  /** One ENI as the API sees it now; undefined once it is gone. */
  private async describeENI(id: string): Promise<NetworkInterface | undefined> {
    try {
      const res = await this.caller.call('DescribeNetworkInterfaces', () => this.vpc.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] }));
      return res.NetworkInterfaceSet?.find((ni) => ni.NetworkInterfaceId === id);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'NotFound') return undefined;
      throw err;
    }
  }

  private waitENI<T>(id: string, what: string, settled: (ni: NetworkInterface | undefined) => T | undefined): Promise<T> {
    return pollUntil('tencent', 'DescribeNetworkInterfaces', what, async () => settled(await this.describeENI(id)), this.poll);
  }

  /** Polls an asynchronous call's task until SUCCESS; FAILED becomes a classified error. */
  private async waitTask(api: string, taskId: string | undefined): Promise<void> {
    if (!taskId) return;
    await pollUntil(
      'tencent',
      'DescribeVpcTaskResult',
      `${api} task ${taskId}`,
      async () => {
        let status: string | undefined;
        try {
          status = (await this.caller.call('DescribeVpcTaskResult', () => this.vpc.DescribeVpcTaskResult({ TaskId: taskId }))).Status;
        } catch (err) {
          // The task is unknown (expired, or answered by another replica): the ENI poll decides.
          if (err instanceof CloudError && err.kind === 'NotFound') return true;
          throw err;
        }
        if (status === 'FAILED') throw new CloudError('ServerError', 'tencent', api, 'FailedOperation.TaskFailed', `task ${taskId} failed`, taskId);
        return status === 'SUCCESS' ? true : undefined;
      },
      this.poll,
    );
  }

  private async vpcOf(subnetId: string): Promise<string> {
    const known = this.subnetVpc.get(subnetId);
    if (known) return known;
    const [subnet] = await this.describeSubnets([subnetId]);
    if (!subnet) throw new CloudError('NotFound', 'tencent', 'DescribeSubnets', 'ResourceNotFound', `subnet ${subnetId} not found`);
    return subnet.vpcId;
  }
}

function matchesFilter(e: CloudENI, f: ENIFilter): boolean {
  if (f.instanceId !== undefined && e.instanceId !== f.instanceId) return false;
  if (f.subnetId !== undefined && e.subnetId !== f.subnetId) return false;
  return Object.entries(f.tags ?? {}).every(([k, v]) => e.tags[k] === v);
}
