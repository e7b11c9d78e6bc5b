// The Alibaba provider on the official SDKs against the emulator's Alibaba
// wire protocol, in process on 127.0.0.1: the production code path end to end,
// plus raw requests for the refusals the SDK would never send.
import { request as httpRequest } from 'node:http';
import { AlibabaProvider, ENI_PAGE_SIZE } from '../../src/cloud/alibaba/provider.js';
import { Credentials } from '../../src/cloud/credentials.js';
import { CloudError } from '../../src/cloud/errors.js';
import type { ProviderOptions } from '../../src/cloud/options.js';
import { createAlibabaProtocol } from '../../src/cloudsim/alibaba/protocol.js';
import { queryString, signedHeadersFor } from '../../src/cloudsim/alibaba/signature.js';
import { Emulator } from '../../src/cloudsim/server.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';
import { World } from '../../src/cloudsim/world.js';

const AK = 'LTAI5tSimulatorKey0001';
const SECRET = 'sim-alibaba-secret-0001';
const REGION = 'cn-hangzhou';
const NODE = 'i-bp1simnode000000001'; // ecs.g7.xlarge: 4 ENIs, 15 IPs per ENI
const PODS = 'vsw-bp1simpodsi000001';
const SG = 'sg-bp1simpods00000001';
const scope = { provider: 'alibaba' as const, regionId: REGION };

let world: World;
let emu: Emulator;
let port: number;
let provider: AlibabaProvider;

function makeProvider(id = AK, secret = SECRET): AlibabaProvider {
  const opts: ProviderOptions = {
    region: REGION,
    credentials: new Credentials(id, secret),
    endpoint: { host: `127.0.0.1:${port}`, insecure: true },
    rateLimit: { qps: 200, burst: 200 },
    // Enough attempts that three callers sharing 5 QPS never run out, however the jitter falls.
    retry: { maxAttempts: 20, baseDelayMs: 20, maxDelayMs: 400 },
    poll: { initialMs: 10, maxMs: 50, deadlineMs: 10_000 },
  };
  return new AlibabaProvider(opts);
}

/** A raw signed request, as the SDK would build it but with whatever we like in it. */
function raw(action: string, version: string, params: Record<string, string>, secret = SECRET, id = AK): Promise<{ status: number; body: Record<string, unknown> }> {
  const host = `127.0.0.1:${port}`;
  const headers = signedHeadersFor({ accessKeyId: id, secret, host, action, version, params });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: `/?${queryString(params)}`, headers: { ...headers, 'content-length': '0' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function rejection(p: Promise<unknown>): Promise<CloudError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CloudError) return err;
    throw err;
  }
  throw new Error('expected a CloudError');
}

const callsOf = (action: string) => emu.getStats().calls.alibaba?.[action] ?? {};

beforeAll(async () => {
  world = new World(loadWorldSpec('config/cloudsim/world.yaml'));
  world.delays = { attachMs: 200, detachMs: 50, deleteMs: 50, taskMs: 50 };
  emu = new Emulator({ world, protocols: [createAlibabaProtocol(world)] });
  ({ port } = await emu.listen(0, '127.0.0.1'));
  provider = makeProvider();
});

afterAll(async () => {
  await emu.close();
});

describe('AlibabaProvider on the emulator', () => {
  it('reads the instance, its limits and subnets', async () => {
    const instance = await provider.describeInstance(NODE);
    expect(instance).toEqual({ id: NODE, type: 'ecs.g7.xlarge', zone: 'cn-hangzhou-i', vpcId: 'vpc-bp1sim000000000001', subnetId: 'vsw-bp1simnodesi00001', primaryIP: instance.primaryIP, state: 'Running' });
    expect(instance.primaryIP).toMatch(/^10\.0\.0\.\d+$/);
    await expect(provider.instanceLimits({ id: NODE, type: 'ecs.g7.xlarge' })).resolves.toEqual({ maxENIs: 4, ipsPerENI: 15 });
    expect((await rejection(provider.describeInstance('i-nothere'))).kind).toBe('NotFound');
    const subnets = await provider.describeSubnets([PODS, 'vsw-bp1simsmalli00001', 'vsw-nothere']);
    expect(subnets).toEqual([
      { id: PODS, zone: 'cn-hangzhou-i', vpcId: 'vpc-bp1sim000000000001', cidr: '10.0.16.0/20', availableIPs: 4092 },
      { id: 'vsw-bp1simsmalli00001', zone: 'cn-hangzhou-i', vpcId: 'vpc-bp1sim000000000001', cidr: '10.0.48.0/28', availableIPs: 12 },
    ]);
  });

  it('creates, attaches, fills, empties, detaches and deletes an ENI', async () => {
    // The first answer is lost: the retry carries the same ClientToken, so there is still one ENI.
    emu.faults.set({ actions: { CreateNetworkInterface: { dropNext: 1 } } });
    const eni = await provider.createENI({ subnetId: PODS, securityGroupIds: [SG], secondaryIPCount: 2, tags: { owner: 'e2e', run: 'lifecycle' }, idempotencyKey: 'e2e-lifecycle-create' });
    emu.faults.set({});
    expect(eni).toMatchObject({ state: 'Available', subnetId: PODS, primary: false, tags: { owner: 'e2e', run: 'lifecycle' }, securityGroupIds: [SG] });
    expect(eni.mac).toMatch(/^00:16:3e:/);
    expect(eni.secondaryIPs).toHaveLength(2);
    expect(world.describeENIs(scope, { tags: { run: 'lifecycle' } })).toHaveLength(1);
    expect(callsOf('CreateNetworkInterface').OK).toBe(2);

    // Attach settles asynchronously: Attaching first, InUse once the delay has passed.
    const attaching = provider.attachENI(eni.id, NODE);
    let seen: string | undefined;
    for (let i = 0; i < 50 && seen !== 'Attaching'; i++) {
      seen = (await provider.listENIs({ ids: [eni.id] }))[0]?.state;
      if (seen !== 'Attaching') await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toBe('Attaching');
    const attached = await attaching;
    expect(attached).toMatchObject({ id: eni.id, state: 'InUse', instanceId: NODE, deviceIndex: 1 });

    // Fill to the per-ENI limit (15, primary included): 12 more, in calls of at most 10.
    const before = callsOf('AssignPrivateIpAddresses').OK ?? 0;
    const ips = await provider.assignIPs(eni.id, 12, 'e2e-lifecycle-assign');
    expect(ips).toHaveLength(12);
    expect((callsOf('AssignPrivateIpAddresses').OK ?? 0) - before).toBe(2);
    // The same key again replays the same batches: no new addresses.
    await expect(provider.assignIPs(eni.id, 12, 'e2e-lifecycle-assign')).resolves.toEqual(ips);
    const full = (await provider.listENIs({ instanceId: NODE, tags: { run: 'lifecycle' } }))[0]!;
    expect(1 + full.secondaryIPs.length).toBe(15);
    const over = await rejection(provider.assignIPs(eni.id, 1, 'e2e-lifecycle-over'));
    expect(over).toMatchObject({ kind: 'QuotaExceeded', code: 'InvalidOperation.Ipv4CountExceeded', provider: 'alibaba', api: 'AssignPrivateIpAddresses' });
    expect(typeof over.requestId).toBe('string');

    // Unassign: some first, then all of them, the already-unassigned ones included.
    await provider.unassignIPs(eni.id, ips.slice(0, 5));
    await provider.unassignIPs(eni.id, ips);
    expect((await provider.listENIs({ ids: [eni.id] }))[0]!.secondaryIPs).toEqual(eni.secondaryIPs);

    await provider.detachENI(eni.id, NODE);
    expect(world.describeENIs(scope, { ids: [eni.id] })[0]).toMatchObject({ status: 'Available' });
    await provider.detachENI(eni.id, NODE); // not attached: done
    await provider.deleteENI(eni.id);
    expect(world.describeENIs(scope, { ids: [eni.id] })).toEqual([]);
    await provider.deleteENI(eni.id); // gone: done
    await expect(provider.listENIs({ ids: [eni.id] })).resolves.toEqual([]);
  });

  it('reports an exhausted vSwitch and the ENI limit with their own kinds', async () => {
    const tooMany = await rejection(provider.createENI({ subnetId: 'vsw-bp1simsmalli00001', securityGroupIds: [SG], secondaryIPCount: 12, tags: {}, idempotencyKey: 'e2e-exhaust' }));
    expect(tooMany).toMatchObject({ kind: 'SubnetExhausted', code: 'InvalidVSwitchId.IpNotEnough' });
    // node-3 is an ecs.g7.large: 3 ENIs with its primary.
    const node3 = 'i-bp1simnode000000003';
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await provider.createENI({ subnetId: 'vsw-bp1simpodsj000001', securityGroupIds: [SG], tags: { run: 'limit' }, idempotencyKey: `e2e-limit-${i}` }));
    // A lost attach answer: the retry finds the ENI already attaching to this node and waits for it.
    emu.faults.set({ actions: { AttachNetworkInterface: { dropNext: 1 } } });
    await expect(provider.attachENI(made[0]!.id, node3)).resolves.toMatchObject({ state: 'InUse', instanceId: node3 });
    emu.faults.set({});
    expect(callsOf('AttachNetworkInterface')['InvalidOperation.InvalidEniState']).toBe(1);
    await provider.attachENI(made[1]!.id, node3);
    const limit = await rejection(provider.attachENI(made[2]!.id, node3));
    expect(limit).toMatchObject({ kind: 'QuotaExceeded', code: 'EniPerInstanceLimitExceeded' });
    for (const e of made) {
      await provider.detachENI(e.id, node3);
      await provider.deleteENI(e.id);
    }
  });

  it('lists every ENI across pages', async () => {
    const count = ENI_PAGE_SIZE * 2 + 5;
    for (let i = 0; i < count; i++) world.createENI(scope, { subnetId: PODS, securityGroupIds: [SG], tags: { run: 'paging' } });
    const before = callsOf('DescribeNetworkInterfaces').OK ?? 0;
    const all = await provider.listENIs({ tags: { run: 'paging' } });
    expect(all).toHaveLength(count);
    expect(new Set(all.map((e) => e.id)).size).toBe(count);
    expect((callsOf('DescribeNetworkInterfaces').OK ?? 0) - before).toBe(3);
    const some = await provider.listENIs({ ids: all.slice(0, 150).map((e) => e.id) });
    expect(some).toHaveLength(150);
    for (const e of all) world.deleteENI(scope, e.id);
  });

  it('retries through server-side throttling', async () => {
    emu.setRateLimits({ perAction: { DescribeInstances: { qps: 5, burst: 1 } } });
    try {
      await Promise.all([provider.describeInstance(NODE), provider.describeInstance(NODE), provider.describeInstance(NODE)]);
      expect(callsOf('DescribeInstances')['Throttling.User']).toBeGreaterThan(0);
      expect(provider.caller.retries).toBeGreaterThan(0);
    } finally {
      emu.setRateLimits({});
    }
  });

  it('fails with AuthFailed on a wrong secret or an unknown key, never showing the secret', async () => {
    const wrong = await rejection(makeProvider(AK, 'not-the-secret-at-all').describeInstance(NODE));
    expect(wrong).toMatchObject({ kind: 'AuthFailed', code: 'SignatureDoesNotMatch', transient: false });
    expect(wrong.message).not.toContain('not-the-secret-at-all');
    const unknown = await rejection(makeProvider('LTAI5tNobodyKnowsMe', SECRET).listENIs({}));
    expect(unknown).toMatchObject({ kind: 'AuthFailed', code: 'InvalidAccessKeyId.NotFound' });
    expect(unknown.message).not.toContain(SECRET);
  });
});

describe('Alibaba wire refusals', () => {
  const ECS = '2014-05-26';
  const VPC = '2016-04-28';
  let eniId: string;

  beforeAll(async () => {
    eniId = world.createENI(scope, { subnetId: PODS, securityGroupIds: [SG], tags: { run: 'refusals' } }).id;
    // Let every pending transition settle, so snapshots change only if a refusal changed something.
    const d = world.delays;
    await new Promise((r) => setTimeout(r, 2 * Math.max(d.attachMs, d.detachMs, d.deleteMs)));
  });

  it.each([
    ['a missing parameter', 'DeleteNetworkInterface', ECS, {}, 400, 'MissingParameter', 'NetworkInterfaceId'],
    ['a missing RegionId', 'DescribeNetworkInterfaces', ECS, { RegionId: '' }, 400, 'MissingParameter', 'RegionId'],
    ['a malformed count', 'AssignPrivateIpAddresses', ECS, { NetworkInterfaceId: '$ENI', SecondaryPrivateIpAddressCount: 'three' }, 400, 'InvalidParameter', 'SecondaryPrivateIpAddressCount'],
    ['more than 10 IPs in one call', 'AssignPrivateIpAddresses', ECS, { NetworkInterfaceId: '$ENI', SecondaryPrivateIpAddressCount: '11' }, 400, 'InvalidParameter', 'SecondaryPrivateIpAddressCount'],
    ['more than 10 addresses to unassign', 'UnassignPrivateIpAddresses', ECS, { NetworkInterfaceId: '$ENI', ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`PrivateIpAddress.${i + 1}`, `10.0.16.${i + 100}`])) }, 400, 'InvalidParameter', 'PrivateIpAddress.11'],
    ['a count out of range at creation', 'CreateNetworkInterface', ECS, { VSwitchId: PODS, 'SecurityGroupIds.1': SG, SecondaryPrivateIpAddressCount: '50' }, 400, 'InvalidParameter', 'SecondaryPrivateIpAddressCount'],
    ['InstanceIds that are not JSON', 'DescribeInstances', ECS, { InstanceIds: NODE }, 400, 'InvalidParameter', 'InstanceIds'],
    ['an unknown action', 'RunInstances', ECS, {}, 404, 'InvalidAction.NotFound', 'RunInstances'],
    ['a wrong version', 'DescribeVSwitches', ECS, {}, 400, 'InvalidVersion', ECS],
    ['an unknown version', 'DescribeNetworkInterfaces', '2099-01-01', {}, 400, 'InvalidVersion', '2099-01-01'],
    ['a missing version', 'DescribeNetworkInterfaces', '', {}, 400, 'MissingParameter', 'Version'],
    ['an unknown region', 'DescribeVSwitches', VPC, { RegionId: 'cn-nowhere' }, 404, 'InvalidRegionId.NotFound', 'cn-nowhere'],
  ] as const)('refuses %s with the right code and changes nothing', async (_what, action, version, params, status, code, named) => {
    const withEni = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === '$ENI' ? eniId : v]));
    const before = JSON.stringify(world.snapshot());
    const res = await raw(action, version, { RegionId: REGION, ...withEni });
    expect([res.status, res.body.Code]).toEqual([status, code]);
    expect(String(res.body.Message)).toContain(named);
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    expect(JSON.stringify(world.snapshot())).toBe(before);
  });

  it('refuses bad signatures and unknown keys before doing anything', async () => {
    const before = JSON.stringify(world.snapshot());
    const params = { RegionId: REGION, NetworkInterfaceId: eniId };
    const bad = await raw('DeleteNetworkInterface', ECS, params, 'wrong-secret');
    expect([bad.status, bad.body.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    const unknown = await raw('DeleteNetworkInterface', ECS, params, SECRET, 'LTAI5tUnknown');
    expect([unknown.status, unknown.body.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
    expect(JSON.stringify(world.snapshot())).toBe(before);
    // The same request, correctly signed, goes through.
    const ok = await raw('DeleteNetworkInterface', ECS, params);
    expect(ok.status).toBe(200);
    expect(typeof ok.body.RequestId).toBe('string');
  });
});
