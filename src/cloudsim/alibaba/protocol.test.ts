import { loadWorldSpec } from '../world-spec.js';
import { World } from '../world.js';
import type { SimRequest, SimResponse } from '../protocol.js';
import { createAlibabaProtocol } from './protocol.js';
import { queryString, signedHeadersFor } from './signature.js';

const AK = 'LTAI5tSimulatorKey0001';
const SECRET = 'sim-alibaba-secret-0001';
const REGION = 'cn-hangzhou';
const SUBNET = 'vsw-bp1simpodsi000001';
const SG = 'sg-bp1simpods00000001';

function request(action: string, params: Record<string, string>, opts: { version?: string; secret?: string } = {}): SimRequest {
  const version = opts.version ?? (action === 'DescribeVSwitches' ? '2016-04-28' : '2014-05-26');
  const headers = signedHeadersFor({ accessKeyId: AK, secret: opts.secret ?? SECRET, host: 'test', action, version, params });
  const rawQuery = queryString(params);
  return { method: 'POST', path: '/', rawQuery, query: new URLSearchParams(rawQuery), headers, body: Buffer.alloc(0) };
}

type Body = Record<string, unknown> & { Code?: string; NextToken?: string };

describe('Alibaba protocol (in process)', () => {
  let world: World;
  let protocol: ReturnType<typeof createAlibabaProtocol>;
  let n = 0;
  const call = (action: string, params: Record<string, string>, opts?: { version?: string; secret?: string }): SimResponse & { body: Body } =>
    protocol.handle(request(action, { RegionId: REGION, ...params }, opts), `req-${++n}`) as SimResponse & { body: Body };

  beforeEach(() => {
    world = new World(loadWorldSpec('config/cloudsim/world.yaml'));
    protocol = createAlibabaProtocol(world);
  });

  it('claims requests by their x-acs headers', () => {
    expect(protocol.claims(request('DescribeInstances', {}))).toBe(true);
    expect(protocol.claims({ method: 'POST', path: '/', rawQuery: '', query: new URLSearchParams(), headers: { 'x-tc-action': 'X' }, body: Buffer.alloc(0) })).toBe(false);
    expect(protocol.action(request('DescribeInstances', {}))).toBe('DescribeInstances');
  });

  it('pages DescribeNetworkInterfaces with NextToken and with PageNumber', () => {
    for (let i = 0; i < 23; i++) {
      expect(call('CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, 'Tag.1.Key': 'set', 'Tag.1.Value': 'paging' }).status).toBe(200);
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = call('DescribeNetworkInterfaces', { 'Tag.1.Key': 'set', MaxResults: '10', ...(token ? { NextToken: token } : {}) });
      expect(res.status).toBe(200);
      const set = (res.body.NetworkInterfaceSets as { NetworkInterfaceSet: { NetworkInterfaceId: string }[] }).NetworkInterfaceSet;
      seen.push(...set.map((e) => e.NetworkInterfaceId));
      token = res.body.NextToken || undefined;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(23);
    const page3 = call('DescribeNetworkInterfaces', { 'Tag.1.Key': 'set', PageNumber: '3', PageSize: '10' });
    expect(page3.body).toMatchObject({ PageNumber: 3, PageSize: 10, TotalCount: 23 });
    expect((page3.body.NetworkInterfaceSets as { NetworkInterfaceSet: unknown[] }).NetworkInterfaceSet).toHaveLength(3);
  });

  it('replays a ClientToken and refuses it with other parameters', () => {
    const first = call('CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, ClientToken: 'tok-1' });
    const again = call('CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, ClientToken: 'tok-1' });
    expect(again.body.NetworkInterfaceId).toBe(first.body.NetworkInterfaceId);
    expect(again.body.RequestId).not.toBe(first.body.RequestId);
    const other = call('CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, SecondaryPrivateIpAddressCount: '2', ClientToken: 'tok-1' });
    expect([other.status, other.body.Code]).toEqual([400, 'IdempotentParameterMismatch']);
  });

  it.each([
    ['missing parameter', 'DeleteNetworkInterface', {}, {}, 400, 'MissingParameter'],
    ['malformed count', 'CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, SecondaryPrivateIpAddressCount: 'two' }, {}, 400, 'InvalidParameter'],
    ['count out of range', 'CreateNetworkInterface', { VSwitchId: SUBNET, 'SecurityGroupIds.1': SG, SecondaryPrivateIpAddressCount: '50' }, {}, 400, 'InvalidParameter'],
    ['too many IPs per assign', 'AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-x', SecondaryPrivateIpAddressCount: '11' }, {}, 400, 'InvalidParameter'],
    ['unknown action', 'RunInstances', {}, {}, 404, 'InvalidAction.NotFound'],
    ['wrong version', 'DescribeNetworkInterfaces', {}, { version: '2016-04-28' }, 400, 'InvalidVersion'],
    ['missing version', 'DescribeNetworkInterfaces', {}, { version: '' }, 400, 'MissingParameter'],
    ['unknown version', 'DescribeNetworkInterfaces', {}, { version: '2099-01-01' }, 400, 'InvalidVersion'],
    ['bad secret', 'DescribeNetworkInterfaces', {}, { secret: 'nope' }, 400, 'SignatureDoesNotMatch'],
    ['unknown ENI', 'DeleteNetworkInterface', { NetworkInterfaceId: 'eni-nothere' }, {}, 404, 'InvalidEniId.NotFound'],
    ['exhausted vSwitch', 'CreateNetworkInterface', { VSwitchId: 'vsw-bp1simsmalli00001', 'SecurityGroupIds.1': SG, SecondaryPrivateIpAddressCount: '12' }, {}, 403, 'InvalidVSwitchId.IpNotEnough'],
  ] as const)('refuses %s without changing the world', (_name, action, params, opts, status, code) => {
    const before = JSON.stringify(world.snapshot());
    const res = call(action, params, opts);
    expect([res.status, res.body.Code]).toEqual([status, code]);
    for (const field of ['RequestId', 'HostId', 'Message', 'Recommend']) expect(typeof res.body[field]).toBe('string');
    expect(JSON.stringify(world.snapshot())).toBe(before);
  });

  it('answers injected errors with Alibaba codes and statuses', () => {
    const req = request('DescribeNetworkInterfaces', { RegionId: REGION });
    const pick = (r: SimResponse) => [r.status, r.code];
    expect(pick(protocol.error('Throttled', req, 'r'))).toEqual([400, 'Throttling.User']);
    expect(pick(protocol.error('InternalError', req, 'r'))).toEqual([500, 'InternalError']);
    expect(pick(protocol.error('ServiceUnavailable', req, 'r'))).toEqual([503, 'ServiceUnavailable']);
    expect(pick(protocol.error('Conflict', req, 'r'))).toEqual([403, 'Operation.Conflict']);
  });
});
