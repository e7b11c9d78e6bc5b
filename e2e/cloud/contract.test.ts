// One contract, both clouds: the production providers, on the official SDKs,
// against the emulator. Everything the pool relies on is asserted here.
import { randomUUID } from 'node:crypto';
import type { ProviderType } from '../../src/api/common.js';
import { CloudError } from '../../src/cloud/errors.js';
import { createProvider } from '../../src/cloud/factory.js';
import type { ProviderOptions } from '../../src/cloud/options.js';
import type { CloudProvider } from '../../src/cloud/types.js';
import { Credentials } from '../../src/cloud/credentials.js';
import type { Stats } from '../../src/cloudsim/server.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';

interface Case {
  type: ProviderType;
  region: string;
  instance: { id: string; type: string; zone: string };
  /** A second instance in the same zone with room for ENIs. */
  spare: { id: string; type: string };
  limits: { maxENIs: number; ipsPerENI: number };
  subnet: string;
  small: string;
  smallUsable: number;
  securityGroup: string;
  codes: { ipQuota: string; eniQuota: string; exhausted: string; auth: string };
  actions: { create: string; assign: string; list: string };
}

const CASES: Case[] = [
  {
    type: 'alibaba',
    region: 'cn-hangzhou',
    instance: { id: 'i-bp1simnode000000001', type: 'ecs.g7.xlarge', zone: 'cn-hangzhou-i' },
    spare: { id: 'i-bp1simnode000000002', type: 'ecs.g7.xlarge' },
    limits: { maxENIs: 4, ipsPerENI: 15 },
    subnet: 'vsw-bp1simpodsi000001',
    small: 'vsw-bp1simsmalli00001',
    smallUsable: 12,
    securityGroup: 'sg-bp1simpods00000001',
    codes: { ipQuota: 'InvalidOperation.Ipv4CountExceeded', eniQuota: 'EniPerInstanceLimitExceeded', exhausted: 'InvalidVSwitchId.IpNotEnough', auth: 'SignatureDoesNotMatch' },
    actions: { create: 'CreateNetworkInterface', assign: 'AssignPrivateIpAddresses', list: 'DescribeNetworkInterfaces' },
  },
  {
    type: 'tencent',
    region: 'ap-guangzhou',
    instance: { id: 'ins-simnode1', type: 'S5.LARGE8', zone: 'ap-guangzhou-3' },
    spare: { id: 'ins-simnode2', type: 'S5.LARGE8' },
    limits: { maxENIs: 3, ipsPerENI: 10 },
    subnet: 'subnet-pods0003',
    small: 'subnet-small003',
    smallUsable: 13,
    securityGroup: 'sg-simpods1',
    codes: { ipQuota: 'LimitExceeded.Address', eniQuota: 'LimitExceeded', exhausted: 'ResourceInsufficient.Subnet', auth: 'AuthFailure.SignatureFailure' },
    actions: { create: 'CreateNetworkInterface', assign: 'AssignPrivateIpAddresses', list: 'DescribeNetworkInterfaces' },
  },
];

function calls(stats: Stats, provider: ProviderType, action: string): number {
  return Object.values(stats.calls[provider]?.[action] ?? {}).reduce((a, b) => a + b, 0);
}

async function rejection(p: Promise<unknown>): Promise<CloudError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CloudError);
    return err as CloudError;
  }
  throw new Error('expected a CloudError');
}

describe.each(CASES)('$type provider contract', (c) => {
  let sim: Cloudsim;
  let cloud: CloudProvider;
  const tag = { 'eni-operator.io/cluster': `contract-${c.type}` };
  const options = (over: Partial<ProviderOptions> = {}): ProviderOptions => ({
    region: c.region,
    credentials: sim.credentials(c.type),
    endpoint: { host: sim.host, insecure: true },
    rateLimit: { qps: 200, burst: 200 },
    poll: { initialMs: 20, maxMs: 100, deadlineMs: 15_000 },
    ...over,
  });
  const newENI = (subnetId = c.subnet, secondaryIPCount = 0) =>
    cloud.createENI({ subnetId, securityGroupIds: [c.securityGroup], secondaryIPCount, tags: tag, idempotencyKey: randomUUID() });

  beforeAll(async () => {
    sim = await startCloudsim();
    cloud = await createProvider(c.type, options());
  });
  afterEach(async () => {
    await sim.admin('DELETE', 'faults');
    await sim.admin('DELETE', 'ratelimits');
    expect(sim.errors).toEqual([]);
  });
  afterAll(() => sim.close());

  /** Detaches and deletes every ENI this suite made, so each test starts clean. */
  async function cleanUp(): Promise<void> {
    for (const eni of await cloud.listENIs({ tags: tag })) {
      if (eni.instanceId) await cloud.detachENI(eni.id, eni.instanceId);
      await cloud.deleteENI(eni.id);
    }
  }
  beforeEach(cleanUp);

  test('instance facts, limits and subnets', async () => {
    const inst = await cloud.describeInstance(c.instance.id);
    expect(inst).toMatchObject({ id: c.instance.id, type: c.instance.type, zone: c.instance.zone });
    expect(await cloud.instanceLimits({ id: c.instance.id, type: c.instance.type })).toEqual(c.limits);
    const subnets = await cloud.describeSubnets([c.subnet, c.small]);
    expect(subnets.map((s) => s.id).sort()).toEqual([c.subnet, c.small].sort());
    expect(subnets.find((s) => s.id === c.small)?.availableIPs).toBe(c.smallUsable);
    await expect(rejection(cloud.describeInstance(c.type === 'alibaba' ? 'i-bp1doesnotexist0001' : 'ins-nothere1'))).resolves.toMatchObject({ kind: 'NotFound' });
  });

  test('ENI lifecycle: create, attach, list, detach, delete; repeats of detach and delete are done', async () => {
    const eni = await newENI(c.subnet, 2);
    expect(eni).toMatchObject({ state: 'Available', primary: false, subnetId: c.subnet, tags: tag });
    expect(eni.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(eni.secondaryIPs).toHaveLength(2);
    const attached = await cloud.attachENI(eni.id, c.instance.id);
    expect(attached).toMatchObject({ id: eni.id, state: 'InUse', instanceId: c.instance.id });
    expect(attached.deviceIndex).toBeGreaterThanOrEqual(1);
    const onInstance = await cloud.listENIs({ instanceId: c.instance.id });
    expect(onInstance.map((e) => e.id)).toContain(eni.id);
    expect(onInstance.filter((e) => e.primary)).toHaveLength(1);
    await cloud.detachENI(eni.id, c.instance.id);
    expect((await cloud.listENIs({ ids: [eni.id] }))[0]).toMatchObject({ state: 'Available' });
    await cloud.detachENI(eni.id, c.instance.id); // already detached: done
    await cloud.deleteENI(eni.id);
    expect(await cloud.listENIs({ ids: [eni.id] })).toEqual([]);
    await cloud.deleteENI(eni.id); // already gone: done
  });

  test('an ENI fills to its IP limit in batches; one more is the exact quota error', async () => {
    const eni = await newENI();
    await cloud.attachENI(eni.id, c.instance.id);
    const ips = await cloud.assignIPs(eni.id, c.limits.ipsPerENI - 1, randomUUID());
    expect(new Set(ips).size).toBe(c.limits.ipsPerENI - 1);
    const err = await rejection(cloud.assignIPs(eni.id, 1, randomUUID()));
    expect(err).toMatchObject({ kind: 'QuotaExceeded', code: c.codes.ipQuota, provider: c.type });
    await cloud.unassignIPs(eni.id, ips.slice(0, 3));
    await cloud.unassignIPs(eni.id, ips.slice(0, 3)); // already unassigned: done
    expect((await cloud.listENIs({ ids: [eni.id] }))[0]!.secondaryIPs).toHaveLength(c.limits.ipsPerENI - 4);
  });

  test('attaching past the instance ENI limit is the exact quota error', async () => {
    const enis = [];
    for (let i = 0; i < c.limits.maxENIs; i++) enis.push(await newENI());
    for (const eni of enis.slice(0, -1)) await cloud.attachENI(eni.id, c.spare.id); // + the primary = the limit
    const err = await rejection(cloud.attachENI(enis.at(-1)!.id, c.spare.id));
    expect(err).toMatchObject({ kind: 'QuotaExceeded', code: c.codes.eniQuota });
  });

  test('subnet exhaustion is classified', async () => {
    const eni = await newENI(c.small, 0);
    const free = (await cloud.describeSubnets([c.small]))[0]!.availableIPs;
    await cloud.assignIPs(eni.id, free, randomUUID());
    const err = await rejection(cloud.assignIPs(eni.id, 1, randomUUID()));
    expect(err).toMatchObject({ kind: 'SubnetExhausted', code: c.codes.exhausted });
    await expect(rejection(newENI(c.small))).resolves.toMatchObject({ kind: 'SubnetExhausted' });
  });

  test('a response dropped after the effect does not create a second ENI or extra IPs on retry', async () => {
    await sim.admin('DELETE', 'stats');
    await sim.admin('PUT', 'faults', { actions: { [c.actions.create]: { dropNext: 1 }, [c.actions.assign]: { dropNext: 1 } } });
    const eni = await newENI();
    const ips = await cloud.assignIPs(eni.id, 3, randomUUID());
    const stats = (await sim.admin('GET', 'stats')) as Stats;
    expect(stats.dropped).toBe(2);
    expect(calls(stats, c.type, c.actions.create)).toBe(2); // the lost answer, then the retry
    expect(calls(stats, c.type, c.actions.assign)).toBe(2);
    const mine = await cloud.listENIs({ tags: tag });
    expect(mine.map((e) => e.id)).toEqual([eni.id]);
    expect(mine[0]!.secondaryIPs.sort()).toEqual([...ips].sort());
    expect(ips).toHaveLength(3);
  });

  test('injected 5xx and conflicts on 30% of calls are retried away', async () => {
    await sim.admin('DELETE', 'stats');
    await sim.admin('PUT', 'faults', { seed: 3, actions: { '*': { errorRate: 0.2, error: 'InternalError' }, [c.actions.assign]: { errorRate: 0.1, error: 'Conflict' } } });
    const eni = await newENI();
    await cloud.attachENI(eni.id, c.instance.id);
    expect(await cloud.assignIPs(eni.id, c.limits.ipsPerENI - 1, randomUUID())).toHaveLength(c.limits.ipsPerENI - 1);
    await cloud.detachENI(eni.id, c.instance.id);
    await cloud.deleteENI(eni.id);
    const stats = (await sim.admin('GET', 'stats')) as Stats;
    const failed = Object.values(stats.calls[c.type] ?? {}).flatMap((byCode) => Object.entries(byCode)).filter(([code]) => code !== 'OK');
    expect(failed.length).toBeGreaterThan(0); // faults did fire...
    expect(await cloud.listENIs({ tags: tag })).toEqual([]); // ...and the outcome is exact
  });

  test('stale Describe results delay settling but never mislead it', async () => {
    const eni = await newENI();
    await sim.admin('PUT', 'faults', { staleDescribeSeconds: 1 });
    const started = Date.now();
    const attached = await cloud.attachENI(eni.id, c.instance.id);
    expect(attached.state).toBe('InUse');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // it waited for the describes to catch up
    await sim.admin('PUT', 'faults', { staleDescribeSeconds: 1 });
    await cloud.detachENI(eni.id, c.instance.id);
    expect((await cloud.listENIs({ ids: [eni.id] }))[0]!.state).toBe('Available');
  });

  test('lists 250+ ENIs across pages', async () => {
    const scope = { provider: c.type, regionId: c.region };
    const pageTag = { 'eni-operator.io/cluster': `pages-${c.type}` };
    for (let i = 0; i < 260; i++) sim.world.createENI(scope, { subnetId: c.subnet, securityGroupIds: [c.securityGroup], tags: pageTag });
    await sim.admin('DELETE', 'stats');
    const listed = await cloud.listENIs({ tags: pageTag });
    expect(listed).toHaveLength(260);
    expect(new Set(listed.map((e) => e.id)).size).toBe(260);
    expect(calls((await sim.admin('GET', 'stats')) as Stats, c.type, c.actions.list)).toBeGreaterThanOrEqual(3);
    for (const e of sim.world.describeENIs(scope, { tags: pageTag })) sim.world.deleteENI(scope, e.id);
  });

  test('a bad signature is AuthFailed, not retried, and the secret never shows', async () => {
    const wrong = await createProvider(c.type, options({ credentials: new Credentials(sim.credentials(c.type).id, 'wrong-secret-value-123') }));
    await sim.admin('DELETE', 'stats');
    const err = await rejection(wrong.describeSubnets([c.subnet]));
    expect(err).toMatchObject({ kind: 'AuthFailed', code: c.codes.auth });
    expect(err.message).not.toContain('wrong-secret-value-123');
    expect(JSON.stringify(err)).not.toContain('wrong-secret-value-123');
    const stats = (await sim.admin('GET', 'stats')) as Stats;
    expect(Object.values(stats.calls[c.type] ?? {}).flatMap((byCode) => Object.values(byCode)).reduce((a, b) => a + b, 0)).toBe(1);
  });

  test('a throttling storm: 5 QPS at the cloud, 200 operations from 40 callers, no error surfaces, retries bounded', async () => {
    const eni = await newENI();
    await sim.admin('PUT', 'ratelimits', { default: { qps: 5, burst: 5 } });
    await sim.admin('DELETE', 'stats');
    // The client believes it may do 10/s: twice what the cloud allows.
    const storm = await createProvider(c.type, options({ rateLimit: { qps: 10, burst: 10 }, retry: { maxAttempts: 12, maxDelayMs: 8000, deadlineMs: 120_000 } }));
    const ops: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 200; i++) {
      ops.push(i % 4 === 0 ? () => storm.describeSubnets([c.subnet]) : () => storm.listENIs({ ids: [eni.id] }));
    }
    const queue = [...ops];
    const started = Date.now();
    await Promise.all(Array.from({ length: 40 }, async () => {
      for (let op = queue.shift(); op; op = queue.shift()) await op();
    }));
    const seconds = (Date.now() - started) / 1000;
    const stats = (await sim.admin('GET', 'stats')) as Stats;
    const attempts = Object.values(stats.calls[c.type] ?? {}).flatMap((byCode) => Object.values(byCode)).reduce((a, b) => a + b, 0);
    // Every logical op made it; throttled attempts stayed well below one per op.
    expect(attempts - 200).toBeLessThan(200);
    expect(stats.throttled).toBe(attempts - 200);
    // The busier API carries 150 operations at 5/s (after a burst of 5): the cloud's limit held.
    expect(seconds).toBeGreaterThanOrEqual((150 - 5) / 5 - 1);
    console.log(`${c.type}: 200 ops at 5 QPS in ${seconds.toFixed(1)} s, ${stats.throttled} throttled attempts`);
  }, 150_000);
});
