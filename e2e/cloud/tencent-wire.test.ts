// The real TencentProvider, through the official SDK, against the emulator's
// Tencent protocol on loopback; plus hand-signed raw requests for the bad
// requests the SDK would never send.
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { Agent } from 'node:http';
import { CloudError } from '../../src/cloud/errors.js';
import { Credentials } from '../../src/cloud/credentials.js';
import { TencentProvider } from '../../src/cloud/tencent/provider.js';
import type { ProviderOptions } from '../../src/cloud/options.js';
import type { Protocol } from '../../src/cloudsim/protocol.js';
import { Emulator } from '../../src/cloudsim/server.js';
import { createTencentProtocol } from '../../src/cloudsim/tencent/protocol.js';
import { serviceOf, tc3Authorization } from '../../src/cloudsim/tencent/signature.js';
import { World } from '../../src/cloudsim/world.js';
import { loadWorldSpec } from '../../src/cloudsim/world-spec.js';

const SECRET_ID = 'AKIDSimulatorSecretId0001';
const SECRET_KEY = 'sim-tencent-secret-0001';
const REGION = 'ap-guangzhou';
const scope = { provider: 'tencent' as const, regionId: REGION };

let world: World;
let emu: Emulator;
let host: string;
/** Task statuses the provider was told, per action that started the task. */
const seen = { tasks: new Map<string, string>(), statuses: new Map<string, string[]>() };

/** Records task ids and the statuses answered for them; the protocol itself is untouched. */
function recording(inner: Protocol): Protocol {
  return {
    ...inner,
    handle(req, requestId) {
      const answer = inner.handle(req, requestId);
      const action = inner.action(req) ?? '';
      const response = (answer.body as { Response: { Status?: string; Error?: unknown } }).Response;
      if (!response.Error && action.endsWith('NetworkInterface')) seen.tasks.set(requestId, action);
      if (action === 'DescribeVpcTaskResult' && response.Status) {
        const taskId = (JSON.parse(req.body.toString()) as { TaskId: string }).TaskId;
        seen.statuses.set(taskId, [...(seen.statuses.get(taskId) ?? []), response.Status]);
      }
      return answer;
    },
  };
}

function provider(secret = SECRET_KEY, id = SECRET_ID): TencentProvider {
  const opts: ProviderOptions = {
    region: REGION,
    credentials: new Credentials(id, secret),
    endpoint: { host, insecure: true },
    rateLimit: { qps: 1000, burst: 1000 },
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    poll: { initialMs: 20, maxMs: 100, deadlineMs: 10_000 },
  };
  return new TencentProvider(opts);
}

/** A raw API 3.0 request, signed with our own signer unless told otherwise. */
async function raw(action: string, body: string, headers: Record<string, string> = {}, secret = SECRET_KEY): Promise<{ Code?: string; Message?: string; response: Record<string, unknown> }> {
  const timestamp = Math.floor(Date.now() / 1000);
  const base: Record<string, string> = {
    'content-type': 'application/json',
    'x-tc-action': action,
    'x-tc-version': '2017-03-12',
    'x-tc-region': REGION,
    'x-tc-timestamp': String(timestamp),
    ...headers,
  };
  const ts = Number(base['x-tc-timestamp']);
  const authorization = tc3Authorization(SECRET_ID, { secretKey: secret, service: serviceOf(host), timestamp: ts, headers: { 'content-type': base['content-type']!, host: host.split(':')[0]! }, body });
  const res = await fetch(`http://${host}/`, { method: 'POST', headers: { ...base, authorization }, body });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { Response: Record<string, unknown> & { Error?: { Code: string; Message: string } } };
  return { Code: json.Response.Error?.Code, Message: json.Response.Error?.Message, response: json.Response };
}

beforeAll(async () => {
  world = new World(loadWorldSpec('config/cloudsim/world.yaml'));
  world.delays = { attachMs: 300, detachMs: 100, deleteMs: 50, taskMs: 50 };
  emu = new Emulator({ world, protocols: [recording(createTencentProtocol(world))] });
  const addr = await emu.listen(0, '127.0.0.1');
  host = `127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await emu.close();
});

describe('TencentProvider against the emulator', () => {
  test('instance, limits and subnets', async () => {
    const p = provider();
    const inst = await p.describeInstance('ins-simnode4');
    expect(inst).toMatchObject({ id: 'ins-simnode4', type: 'S5.4XLARGE32', zone: 'ap-guangzhou-6', vpcId: 'vpc-sim00001', subnetId: 'subnet-nodes006', state: 'RUNNING' });
    expect(inst.primaryIP).toMatch(/^10\.1\.1\.\d+$/);
    await expect(p.describeInstance('ins-nothere')).rejects.toMatchObject({ kind: 'NotFound' });
    // Counted with the primary ENI and each ENI's primary IP, as the world file says.
    expect(await p.instanceLimits({ id: 'ins-simnode4', type: inst.type })).toEqual({ maxENIs: 8, ipsPerENI: 20 });
    const subnets = await p.describeSubnets(['subnet-pods0006', 'subnet-small003', 'subnet-nothere']);
    expect(subnets.map((s) => s.id).sort()).toEqual(['subnet-pods0006', 'subnet-small003']);
    expect(subnets.find((s) => s.id === 'subnet-small003')).toEqual({ id: 'subnet-small003', zone: 'ap-guangzhou-3', vpcId: 'vpc-sim00001', cidr: '10.1.48.0/28', availableIPs: 13 });
  });

  test('create → attach → assign to the limit → quota error → unassign → detach → delete', async () => {
    const p = provider();
    const req = { subnetId: 'subnet-pods0006', securityGroupIds: ['sg-simpods1'], secondaryIPCount: 2, tags: { 'eni-operator/node': 'node-4' }, name: 'pool', idempotencyKey: 'create-node4-1' };
    const eni = await p.createENI(req);
    expect(eni).toMatchObject({ state: 'Available', primary: false, vpcId: 'vpc-sim00001', subnetId: 'subnet-pods0006', zone: 'ap-guangzhou-6', tags: { 'eni-operator/node': 'node-4' } });
    expect(eni.mac).toMatch(/^20:90:6f(:[0-9a-f]{2}){3}$/);
    expect(eni.secondaryIPs).toHaveLength(2);
    // The same key again: the same ENI, not a second one.
    expect((await p.createENI(req)).id).toBe(eni.id);

    const attached = await p.attachENI(eni.id, 'ins-simnode4');
    expect(attached).toMatchObject({ id: eni.id, state: 'InUse', instanceId: 'ins-simnode4', deviceIndex: 1 });
    const attachTask = [...seen.tasks].find(([, action]) => action === 'AttachNetworkInterface')![0];
    const statuses = seen.statuses.get(attachTask)!;
    expect(statuses[0]).toBe('RUNNING');
    expect(statuses.at(-1)).toBe('SUCCESS');

    // 1 primary + 2 + 17 = 20, the limit; 17 goes out as 10 + 7.
    const added = await p.assignIPs(eni.id, 17, 'assign-1');
    expect(added).toHaveLength(17);
    expect(world.describeENIs(scope, { ids: [eni.id] })[0]!.secondaryIPs).toHaveLength(19);
    const over = await p.assignIPs(eni.id, 1, 'assign-2').catch((e: unknown) => e);
    expect(over).toBeInstanceOf(CloudError);
    expect(over).toMatchObject({ kind: 'QuotaExceeded', code: 'LimitExceeded.Address', provider: 'tencent' });

    // 12 addresses (two batches), one of them unassigned already: done all the same.
    const drop = [...added.slice(0, 11), '10.1.32.250'];
    await p.unassignIPs(eni.id, drop);
    await p.unassignIPs(eni.id, drop);
    const [afterUnassign] = await p.listENIs({ ids: [eni.id] });
    expect(afterUnassign!.secondaryIPs).toHaveLength(19 - 11);

    const byTag = await p.listENIs({ tags: { 'eni-operator/node': 'node-4' } });
    expect(byTag.map((e) => e.id)).toEqual([eni.id]);
    const onNode = await p.listENIs({ instanceId: 'ins-simnode4' });
    expect(onNode.map((e) => e.primary).sort()).toEqual([false, true]);

    await p.detachENI(eni.id, 'ins-simnode4');
    expect(world.describeENIs(scope, { ids: [eni.id] })[0]).toMatchObject({ status: 'Available' });
    await p.detachENI(eni.id, 'ins-simnode4'); // not attached: done
    await p.deleteENI(eni.id);
    expect(world.describeENIs(scope, { ids: [eni.id] })).toEqual([]);
    await p.deleteENI(eni.id); // gone: done
  });

  test('listENIs reads every page', async () => {
    for (let i = 0; i < 230; i++) world.createENI(scope, { subnetId: 'subnet-pods0003', securityGroupIds: ['sg-simpods1'], tags: { bulk: 'yes' } });
    const all = await provider().listENIs({ tags: { bulk: 'yes' } });
    expect(all).toHaveLength(230);
    expect(new Set(all.map((e) => e.id)).size).toBe(230);
  });

  test('a subnet that runs out answers ResourceInsufficient.Subnet', async () => {
    const err = await provider()
      .createENI({ subnetId: 'subnet-small003', securityGroupIds: ['sg-simpods1'], secondaryIPCount: 10, tags: {}, idempotencyKey: 'small-1' })
      .then(() => provider().createENI({ subnetId: 'subnet-small003', securityGroupIds: ['sg-simpods1'], secondaryIPCount: 10, tags: {}, idempotencyKey: 'small-2' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'SubnetExhausted', code: 'ResourceInsufficient.Subnet' });
  });

  test('bad credentials are AuthFailed and never leak', async () => {
    const wrongSecret = await provider('not-the-secret-key').describeInstance('ins-simnode1').catch((e: unknown) => e);
    expect(wrongSecret).toMatchObject({ kind: 'AuthFailed', code: 'AuthFailure.SignatureFailure' });
    const unknownId = await provider(SECRET_KEY, 'AKIDunknown0000').describeInstance('ins-simnode1').catch((e: unknown) => e);
    expect(unknownId).toMatchObject({ kind: 'AuthFailed', code: 'AuthFailure.SecretIdNotFound' });
    for (const e of [wrongSecret, unknownId]) expect(JSON.stringify({ m: (e as Error).message, s: String(e) })).not.toMatch(/not-the-secret-key|sim-tencent-secret/);
  });
});

describe('raw requests the SDK would not send', () => {
  const eniBody = () => JSON.stringify({ NetworkInterfaceId: world.describeENIs(scope, { primary: false })[0]?.id ?? 'eni-00000001' });

  test.each([
    ['missing parameter', 'AttachNetworkInterface', () => eniBody(), {}, 'MissingParameter', /InstanceId/],
    ['malformed parameter', 'AssignPrivateIpAddresses', () => JSON.stringify({ NetworkInterfaceId: 'eni-00000001', SecondaryPrivateIpAddressCount: 'three' }), {}, 'InvalidParameter', /SecondaryPrivateIpAddressCount/],
    ['value out of range', 'DescribeNetworkInterfaces', () => JSON.stringify({ Limit: 1000 }), {}, 'InvalidParameterValue.Range', /Limit/],
    ['unknown parameter', 'DeleteNetworkInterface', () => JSON.stringify({ NetworkInterfaceId: 'eni-00000001', Force: true }), {}, 'UnknownParameter', /Force/],
    ['unknown action', 'DeleteEverything', () => '{}', {}, 'InvalidAction', /DeleteEverything/],
    ['wrong version', 'DeleteNetworkInterface', () => eniBody(), { 'x-tc-version': '2020-01-01' }, 'NoSuchVersion', /2020-01-01/],
    ['non-JSON body', 'DeleteNetworkInterface', () => '{"NetworkInterfaceId": ', {}, 'InvalidParameter', /JSON/],
    ['unsupported region', 'DeleteNetworkInterface', () => eniBody(), { 'x-tc-region': 'ap-nowhere' }, 'UnsupportedRegion', /ap-nowhere/],
    ['stale timestamp', 'DeleteNetworkInterface', () => eniBody(), { 'x-tc-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }, 'AuthFailure.SignatureExpire', /expired/],
  ])('%s', async (_name, action, body, headers, code, message) => {
    const before = JSON.stringify(world.snapshot());
    const answer = await raw(action, body(), headers);
    expect(answer.Code).toBe(code);
    expect(answer.Message).toMatch(message);
    expect(typeof answer.response.RequestId).toBe('string');
    expect(JSON.stringify(world.snapshot())).toBe(before);
  });

  test('a wrong secret fails the signature and changes nothing', async () => {
    const before = JSON.stringify(world.snapshot());
    expect((await raw('DeleteNetworkInterface', eniBody(), {}, 'wrong-secret')).Code).toBe('AuthFailure.SignatureFailure');
    expect(JSON.stringify(world.snapshot())).toBe(before);
  });

  test('the task of an asynchronous call is RUNNING, then SUCCESS', async () => {
    const vpc = new VpcClient({ credential: { secretId: SECRET_ID, secretKey: SECRET_KEY }, region: REGION, profile: { httpProfile: { endpoint: host, protocol: 'http://', agent: new Agent() } } });
    const eni = world.createENI(scope, { subnetId: 'subnet-pods0003', securityGroupIds: ['sg-simpods1'] });
    const { RequestId } = await vpc.AttachNetworkInterface({ NetworkInterfaceId: eni.id, InstanceId: 'ins-simnode1' });
    expect((await vpc.DescribeVpcTaskResult({ TaskId: RequestId! })).Status).toBe('RUNNING');
    const described = await vpc.DescribeNetworkInterfaces({ NetworkInterfaceIds: [eni.id] });
    expect(described.NetworkInterfaceSet![0]).toMatchObject({ State: 'ATTACHING', Attachment: { InstanceId: 'ins-simnode1' } });
    await new Promise((r) => setTimeout(r, 350));
    expect((await vpc.DescribeVpcTaskResult({ TaskId: RequestId! })).Status).toBe('SUCCESS');
    expect((await vpc.DescribeNetworkInterfaces({ NetworkInterfaceIds: [eni.id] })).NetworkInterfaceSet![0]).toMatchObject({ State: 'AVAILABLE', NetworkInterfaceState: 'INUSE' });
  });
});
