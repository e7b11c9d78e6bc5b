// The Tencent protocol in memory: signed SimRequests straight into handle().
import type { SimRequest, SimResponse } from '../protocol.js';
import { World } from '../world.js';
import { parseWorldSpec } from '../world-spec.js';
import { createTencentProtocol } from './protocol.js';
import { tc3Authorization } from './signature.js';

const HOST = '127.0.0.1:9000';
const NOW = 1_700_000_000_000;
const scope = { provider: 'tencent' as const, regionId: 'ap-test' };

function setup() {
  let now = NOW;
  const world = new World(
    parseWorldSpec({
      credentials: [{ provider: 'tencent', accessKeyId: 'AKID1', accessKeySecret: 'SECRET1' }],
      delays: { attachMs: 1000, detachMs: 1000, deleteMs: 100, taskMs: 100 },
      maxIPsPerDetachedENI: 10,
      regions: [
        {
          id: 'ap-test',
          provider: 'tencent',
          zones: ['z1', 'z2'],
          vpcs: [{ id: 'vpc-1', cidr: '10.0.0.0/16', subnets: [{ id: 'subnet-a', zone: 'z1', cidr: '10.0.0.0/24' }, { id: 'subnet-b', zone: 'z2', cidr: '10.0.1.0/24' }, { id: 'subnet-tiny', zone: 'z1', cidr: '10.0.2.0/29' }] }],
          securityGroups: [{ id: 'sg-1', vpcId: 'vpc-1' }],
          instanceTypes: [{ type: 'S5.SMALL', maxENIs: 2, ipsPerENI: 4 }],
          instances: [{ id: 'ins-1', type: 'S5.SMALL', zone: 'z1', subnetId: 'subnet-a' }],
        },
      ],
    }),
    () => now,
  );
  const protocol = createTencentProtocol(world, { now: () => now });
  let n = 0;
  const call = (action: string, body: unknown, opts: { headers?: Record<string, string>; secret?: string; raw?: string } = {}): SimResponse => {
    const text = opts.raw ?? JSON.stringify(body);
    const headers: Record<string, string> = {
      host: HOST,
      'content-type': 'application/json',
      'x-tc-action': action,
      'x-tc-version': '2017-03-12',
      'x-tc-region': 'ap-test',
      'x-tc-timestamp': String(Math.floor(now / 1000)),
      ...opts.headers,
    };
    headers.authorization ??= tc3Authorization('AKID1', { secretKey: opts.secret ?? 'SECRET1', service: '127', timestamp: Number(headers['x-tc-timestamp']), headers: { 'content-type': headers['content-type']!, host: '127.0.0.1' }, body: text });
    const req: SimRequest = { method: 'POST', path: '/', rawQuery: '', query: new URLSearchParams(), headers, body: Buffer.from(text) };
    return protocol.handle(req, `req-${++n}`);
  };
  return { world, protocol, call, advance: (ms: number) => (now += ms) };
}

type Resp = Record<string, unknown> & { Error?: { Code: string; Message: string } };
const response = (r: SimResponse) => (r.body as { Response: Resp }).Response;
const code = (r: SimResponse) => response(r).Error?.Code;

function create(call: ReturnType<typeof setup>['call'], extra: Record<string, unknown> = {}) {
  const r = call('CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', SecurityGroupIds: ['sg-1'], ...extra });
  return response(r).NetworkInterface as { NetworkInterfaceId: string; State: string; PrivateIpAddressSet: { PrivateIpAddress: string; Primary: boolean }[] };
}

describe('Tencent protocol: authentication', () => {
  test.each([
    ['no Authorization', { headers: { authorization: '' } }, 'AuthFailure.InvalidAuthorization'],
    ['a wrong secret', { secret: 'nope' }, 'AuthFailure.SignatureFailure'],
    ['an unknown SecretId', { headers: { authorization: tc3Authorization('AKID-unknown', { secretKey: 'SECRET1', service: '127', timestamp: NOW / 1000, headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: '{}' }) } }, 'AuthFailure.SecretIdNotFound'],
    ['a timestamp six minutes old', { headers: { 'x-tc-timestamp': String(NOW / 1000 - 360) } }, 'AuthFailure.SignatureExpire'],
    ['a timestamp six minutes ahead', { headers: { 'x-tc-timestamp': String(NOW / 1000 + 360) } }, 'AuthFailure.SignatureExpire'],
    ['another service in the scope', { headers: { authorization: tc3Authorization('AKID1', { secretKey: 'SECRET1', service: 'vpc', timestamp: NOW / 1000, headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: '{}' }) } }, 'AuthFailure.SignatureFailure'],
    ['the host signed with its port', { headers: { authorization: tc3Authorization('AKID1', { secretKey: 'SECRET1', service: '127', timestamp: NOW / 1000, headers: { 'content-type': 'application/json', host: HOST }, body: '{}' }) } }, 'AuthFailure.SignatureFailure'],
  ])('%s is refused', (_name, opts, expected) => {
    const { call } = setup();
    expect(code(call('DescribeInstances', {}, opts))).toBe(expected);
  });

  test('a body changed after signing is refused', () => {
    const { call } = setup();
    const auth = tc3Authorization('AKID1', { secretKey: 'SECRET1', service: '127', timestamp: NOW / 1000, headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: '{"InstanceIds":["ins-1"]}' });
    expect(code(call('DescribeInstances', { InstanceIds: ['ins-2'] }, { headers: { authorization: auth } }))).toBe('AuthFailure.SignatureFailure');
    expect(code(call('DescribeInstances', { InstanceIds: ['ins-1'] }, { headers: { authorization: auth } }))).toBeUndefined();
  });

  test('answers are HTTP 200 with a RequestId, errors included', () => {
    const { call } = setup();
    const r = call('Nope', {});
    expect(r.status).toBe(200);
    expect(response(r)).toEqual({ Error: { Code: 'InvalidAction', Message: expect.stringContaining('Nope') as string }, RequestId: 'req-1' });
    expect(r.code).toBe('InvalidAction');
  });
});

describe('Tencent protocol: parameters are checked before the world changes', () => {
  test.each([
    ['CreateNetworkInterface', { SubnetId: 'subnet-a', NetworkInterfaceName: 'n' }, 'MissingParameter', 'VpcId'],
    ['CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', SecondaryPrivateIpAddressCount: 1.5 }, 'InvalidParameter', 'SecondaryPrivateIpAddressCount'],
    ['CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }, 'InvalidParameterValue.TagDuplicateKey', 'Tags.1.Key'],
    ['CreateNetworkInterface', { VpcId: 'vpc-2', SubnetId: 'subnet-a', NetworkInterfaceName: 'n' }, 'InvalidVpcId.NotFound', 'vpc-2'],
    ['CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', SecurityGroupIds: ['sg-1'], ClientToken: 'x'.repeat(65) }, 'InvalidParameterValue.TooLong', 'ClientToken'],
    ['AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1' }, 'MissingParameter', 'SecondaryPrivateIpAddressCount'],
    ['AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', SecondaryPrivateIpAddressCount: 11 }, 'InvalidParameterValue.Range', 'SecondaryPrivateIpAddressCount'],
    ['AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.300' }] }, 'InvalidParameterValue.Malformed', 'PrivateIpAddresses.0.PrivateIpAddress'],
    ['UnassignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', PrivateIpAddresses: Array.from({ length: 11 }, (_, i) => ({ PrivateIpAddress: `10.0.0.${i + 10}` })) }, 'InvalidParameterValue.LimitExceeded', 'PrivateIpAddresses'],
    ['UnassignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', PrivateIpAddresses: [] }, 'MissingParameter', 'PrivateIpAddresses.0'],
    ['DescribeNetworkInterfaces', { NetworkInterfaceIds: ['eni-1'], Filters: [] }, 'InvalidParameter.Coexist', 'NetworkInterfaceIds'],
    ['DescribeNetworkInterfaces', { Filters: [{ Name: 'colour', Values: ['red'] }] }, 'InvalidParameter.FilterInvalidKey', 'colour'],
    ['DescribeNetworkInterfaces', { Filters: [{ Name: 'vpc-id', Values: 'vpc-1' }] }, 'InvalidParameter.FilterValuesNotList', 'Filters.0.Values'],
    ['DescribeNetworkInterfaces', { Offset: -1 }, 'InvalidParameterValue.Range', 'Offset'],
    ['DescribeVpcTaskResult', {}, 'MissingParameter', 'TaskId'],
    ['DescribeVpcTaskResult', { TaskId: 7 }, 'InvalidParameter', 'TaskId'],
    ['DescribeInstances', { InstanceIds: Array.from({ length: 101 }, (_, i) => `ins-${i}`) }, 'InvalidParameterValue.LimitExceeded', 'InstanceIds'],
  ])('%s %j → %s', (action, body, expected, named) => {
    const { world, call } = setup();
    const before = JSON.stringify(world.snapshot());
    const r = call(action, body);
    expect(code(r)).toBe(expected);
    expect(response(r).Error!.Message).toContain(named);
    expect(JSON.stringify(world.snapshot())).toBe(before);
  });

  test.each([
    ['a missing action', { 'x-tc-action': '' }, 'MissingParameter'],
    ['a missing version', { 'x-tc-version': '' }, 'MissingParameter'],
    ['another version', { 'x-tc-version': '2018-01-01' }, 'NoSuchVersion'],
    ['a missing region', { 'x-tc-region': '' }, 'MissingParameter'],
    ['an unknown region', { 'x-tc-region': 'ap-mars' }, 'UnsupportedRegion'],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'InvalidParameter'],
  ])('%s is refused', (_name, headers, expected) => {
    const { call } = setup();
    expect(code(call('DescribeInstances', {}, { headers }))).toBe(expected);
  });

  test('bodies that are not a JSON object are refused', () => {
    const { call } = setup();
    for (const raw of ['', 'not json', '[1,2]', 'null', '"s"']) expect(code(call('DescribeInstances', undefined, { raw }))).toBe('InvalidParameter');
  });
});

describe('Tencent protocol: actions', () => {
  test('create is asynchronous: PENDING in the answer, a task under its RequestId', () => {
    const { call, advance } = setup();
    const r = call('CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', SecurityGroupIds: ['sg-1'], SecondaryPrivateIpAddressCount: 2, PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.200', Primary: true }], Tags: [{ Key: 'k', Value: 'v' }] });
    const eni = response(r).NetworkInterface as Record<string, unknown>;
    expect(eni).toMatchObject({ State: 'PENDING', VpcId: 'vpc-1', SubnetId: 'subnet-a', Zone: 'z1', GroupSet: ['sg-1'], Primary: false, TagSet: [{ Key: 'k', Value: 'v' }], Attachment: null });
    expect(eni.PrivateIpAddressSet).toEqual([expect.objectContaining({ PrivateIpAddress: '10.0.0.200', Primary: true }), expect.objectContaining({ Primary: false }), expect.objectContaining({ Primary: false })]);
    expect(eni.MacAddress).toMatch(/^20:90:6F(:[0-9A-F]{2}){3}$/);
    expect(eni.CreatedTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const taskId = response(r).RequestId as string;
    expect(response(call('DescribeVpcTaskResult', { TaskId: taskId })).Status).toBe('RUNNING');
    advance(100);
    expect(response(call('DescribeVpcTaskResult', { TaskId: taskId })).Status).toBe('SUCCESS');
    expect(code(call('DescribeVpcTaskResult', { TaskId: 'nope' }))).toBe('ResourceNotFound');
  });

  test('a repeated ClientToken gets the first ENI, and a task of its own; other parameters are refused', () => {
    const { world, call } = setup();
    const first = create(call, { ClientToken: 'tok-1' });
    const again = call('CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-a', NetworkInterfaceName: 'n', SecurityGroupIds: ['sg-1'], ClientToken: 'tok-1' });
    expect((response(again).NetworkInterface as { NetworkInterfaceId: string }).NetworkInterfaceId).toBe(first.NetworkInterfaceId);
    expect(response(call('DescribeVpcTaskResult', { TaskId: response(again).RequestId })).Status).toBe('RUNNING');
    expect(world.describeENIs(scope, { primary: false })).toHaveLength(1);
    const other = call('CreateNetworkInterface', { VpcId: 'vpc-1', SubnetId: 'subnet-b', NetworkInterfaceName: 'n', SecurityGroupIds: ['sg-1'], ClientToken: 'tok-1' });
    expect(code(other)).toBe('UnsupportedOperation.IdempotentParameterMismatch');
  });

  test('attach: ATTACHING, then AVAILABLE with an Attachment; limits and states in Tencent codes', () => {
    const { call, advance } = setup();
    const a = create(call);
    const b = create(call);
    expect(code(call('AttachNetworkInterface', { NetworkInterfaceId: a.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBeUndefined();
    const attaching = response(call('DescribeNetworkInterfaces', { NetworkInterfaceIds: [a.NetworkInterfaceId] })).NetworkInterfaceSet as Record<string, unknown>[];
    expect(attaching[0]).toMatchObject({ State: 'ATTACHING', Attachment: { InstanceId: 'ins-1', DeviceIndex: 1 } });
    expect(code(call('AttachNetworkInterface', { NetworkInterfaceId: a.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBe('UnsupportedOperation.AttachmentAlreadyExists');
    expect(code(call('DetachNetworkInterface', { NetworkInterfaceId: a.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBe('UnsupportedOperation.InvalidState');
    expect(code(call('DeleteNetworkInterface', { NetworkInterfaceId: a.NetworkInterfaceId }))).toBe('UnsupportedOperation.InvalidState');
    advance(1000);
    const inUse = response(call('DescribeNetworkInterfaces', { Filters: [{ Name: 'attachment.instance-id', Values: ['ins-1'] }, { Name: 'is-primary', Values: ['FALSE'] }] }));
    expect(inUse.TotalCount).toBe(1);
    expect((inUse.NetworkInterfaceSet as Record<string, unknown>[])[0]).toMatchObject({ State: 'AVAILABLE', NetworkInterfaceState: 'INUSE' });
    // The primary ENI plus this one: the instance type's two.
    expect(code(call('AttachNetworkInterface', { NetworkInterfaceId: b.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBe('LimitExceeded');
    expect(code(call('AttachNetworkInterface', { NetworkInterfaceId: b.NetworkInterfaceId, InstanceId: 'ins-9' }))).toBe('InvalidInstanceId.NotFound');
    expect(code(call('AttachNetworkInterface', { NetworkInterfaceId: 'eni-zzzzzzzz', InstanceId: 'ins-1' }))).toBe('ResourceNotFound');
    // Attached: 4 IPs per ENI, the primary IP included.
    expect(code(call('AssignPrivateIpAddresses', { NetworkInterfaceId: a.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 3 }))).toBeUndefined();
    expect(code(call('AssignPrivateIpAddresses', { NetworkInterfaceId: a.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 }))).toBe('LimitExceeded.Address');
    expect(response(call('DescribeNetworkInterfaceLimit', { InstanceId: 'ins-1' }))).toMatchObject({ EniQuantity: 2, EniPrivateIpAddressQuantity: 4 });
    expect(response(call('DescribeNetworkInterfaceLimit', { InstanceId: a.NetworkInterfaceId }))).toMatchObject({ EniQuantity: 2, EniPrivateIpAddressQuantity: 4 });
    const primary = (response(call('DescribeNetworkInterfaces', { Filters: [{ Name: 'is-primary', Values: ['true'] }] })).NetworkInterfaceSet as { NetworkInterfaceId: string }[])[0]!;
    expect(code(call('DetachNetworkInterface', { NetworkInterfaceId: primary.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBe('UnsupportedOperation');
    expect(code(call('DetachNetworkInterface', { NetworkInterfaceId: b.NetworkInterfaceId, InstanceId: 'ins-1' }))).toBe('UnsupportedOperation.AttachmentNotFound');
  });

  test('assign, unassign and the subnet running out', () => {
    const { call } = setup();
    const eni = create(call, { SubnetId: 'subnet-tiny' }); // 8 addresses, 3 reserved, 1 now used
    const r = call('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 2 });
    const added = (response(r).PrivateIpAddressSet as { PrivateIpAddress: string }[]).map((x) => x.PrivateIpAddress);
    expect(added).toHaveLength(2);
    expect(code(call('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 3 }))).toBe('ResourceInsufficient.Subnet');
    expect(code(call('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [{ PrivateIpAddress: added[0] }] }))).toBe('ResourceInUse.Address');
    expect(code(call('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [{ PrivateIpAddress: added[0] }, { PrivateIpAddress: '10.0.2.6' }] }))).toBe('ResourceNotFound');
    expect(code(call('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: added.map((PrivateIpAddress) => ({ PrivateIpAddress })) }))).toBeUndefined();
    const subnet = (response(call('DescribeSubnets', { SubnetIds: ['subnet-tiny'], Limit: '10' })).SubnetSet as Record<string, unknown>[])[0];
    expect(subnet).toMatchObject({ SubnetId: 'subnet-tiny', VpcId: 'vpc-1', Zone: 'z1', CidrBlock: '10.0.2.0/29', AvailableIpAddressCount: 4, TotalIpAddressCount: 5 });
  });

  test('describe: tag filters, OR within Values, paging with TotalCount', () => {
    const { call } = setup();
    for (let i = 0; i < 5; i++) create(call, { Tags: [{ Key: 'pool', Value: i % 2 ? 'odd' : 'even' }] });
    const page = (body: unknown) => response(call('DescribeNetworkInterfaces', body));
    expect(page({ Filters: [{ Name: 'tag:pool', Values: ['odd'] }] }).TotalCount).toBe(2);
    expect(page({ Filters: [{ Name: 'tag:pool', Values: ['odd', 'even'] }] }).TotalCount).toBe(5);
    expect(page({ Filters: [{ Name: 'tag-key', Values: ['pool'] }, { Name: 'subnet-id', Values: ['subnet-b'] }] }).TotalCount).toBe(0);
    const second = page({ Filters: [{ Name: 'tag-key', Values: ['pool'] }], Offset: 3, Limit: 2 });
    expect(second.TotalCount).toBe(5);
    expect(second.NetworkInterfaceSet).toHaveLength(2);
  });

  test('CVM DescribeInstances: unknown ids are absent', () => {
    const { call } = setup();
    const r = response(call('DescribeInstances', { InstanceIds: ['ins-1', 'ins-404'] }));
    expect(r.TotalCount).toBe(1);
    expect((r.InstanceSet as Record<string, unknown>[])[0]).toMatchObject({
      InstanceId: 'ins-1',
      InstanceType: 'S5.SMALL',
      Placement: { Zone: 'z1' },
      VirtualPrivateCloud: { VpcId: 'vpc-1', SubnetId: 'subnet-a' },
      PrivateIpAddresses: ['10.0.0.2'],
      InstanceState: 'RUNNING',
    });
  });

  test('injected errors use Tencent codes', () => {
    const { protocol } = setup();
    const req = { method: 'POST', path: '/', rawQuery: '', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) };
    expect(code(protocol.error('Throttled', req, 'r'))).toBe('RequestLimitExceeded');
    expect(code(protocol.error('InternalError', req, 'r'))).toBe('InternalError');
    expect(code(protocol.error('ServiceUnavailable', req, 'r'))).toBe('ServiceUnavailable');
    expect(code(protocol.error('Conflict', req, 'r'))).toBe('UnsupportedOperation.MutexOperationTaskRunning');
    expect(protocol.error('Throttled', req, 'r').status).toBe(200);
  });
});
