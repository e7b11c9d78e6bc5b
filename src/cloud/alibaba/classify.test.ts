import { ClientError, ServerError, ThrottlingError } from '@alicloud/openapi-core';
import { classifyAlibabaError, kindOf } from './classify.js';
import { clientToken } from './map.js';

describe('Alibaba error classification', () => {
  it.each([
    ['InvalidVSwitchId.IpNotEnough', 403, 'SubnetExhausted'],
    ['QuotaExceeded.PrivateIpAddress', 403, 'SubnetExhausted'],
    ['EniPerInstanceLimitExceeded', 403, 'QuotaExceeded'],
    ['MaxEniCountExceeded', 403, 'QuotaExceeded'],
    ['InvalidOperation.Ipv4CountExceeded', 403, 'QuotaExceeded'],
    ['InvalidEniId.NotFound', 404, 'NotFound'],
    ['InvalidEcsId.NotFound', 404, 'NotFound'],
    ['InvalidInstanceId.NotFound', 404, 'NotFound'],
    ['InvalidIp.IpUnassigned', 403, 'NotFound'],
    ['InvalidOperation.InvalidEniState', 400, 'InvalidState'],
    ['InvalidOperation.InvalidEcsState', 400, 'InvalidState'],
    ['IncorrectInstanceStatus', 403, 'InvalidState'],
    ['Throttling', 400, 'Throttled'],
    ['Throttling.User', 400, 'Throttled'],
    ['Throttling.Api', 400, 'Throttled'],
    ['InvalidAccessKeyId.NotFound', 404, 'AuthFailed'],
    ['InvalidAccessKeyId.Inactive', 400, 'AuthFailed'],
    ['SignatureDoesNotMatch', 400, 'AuthFailed'],
    ['IncompleteSignature', 400, 'AuthFailed'],
    ['Forbidden.RAM', 403, 'AuthFailed'],
    ['Operation.Conflict', 403, 'Conflict'],
    ['InternalError', 500, 'ServerError'],
    ['ServiceUnavailable', 503, 'ServerError'],
    ['SomethingNew', 502, 'ServerError'],
    ['MissingParameter', 400, 'InvalidRequest'],
    ['InvalidParameter', 400, 'InvalidRequest'],
    ['InvalidAction.NotFound', 404, 'InvalidRequest'],
    ['InvalidVersion', 400, 'InvalidRequest'],
    ['InvalidRegionId.NotFound', 404, 'InvalidRequest'],
    ['InvalidSecurityGroupId.NotFound', 404, 'InvalidRequest'],
    ['IdempotentParameterMismatch', 400, 'InvalidRequest'],
    ['InvalidOperation.DetachPrimaryEniNotAllowed', 400, 'InvalidRequest'],
    ['SomethingNew', 400, 'Unknown'],
  ])('%s (%i) is %s', (code, status, kind) => {
    expect(kindOf(code, status)).toBe(kind);
  });

  it('reads code, status and request id from the SDK error classes', () => {
    const data = { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.', RequestId: 'r-1' };
    const throttled = classifyAlibabaError(new ThrottlingError({ statusCode: 400, code: 'Throttling.User', message: 'code: 400, x request id: r-1', data, requestId: 'r-1' }), 'AssignPrivateIpAddresses');
    expect(throttled).toMatchObject({ kind: 'Throttled', code: 'Throttling.User', requestId: 'r-1', provider: 'alibaba', api: 'AssignPrivateIpAddresses', transient: true });
    expect(throttled.message).toContain('user flow control');
    const client = classifyAlibabaError(new ClientError({ statusCode: 403, code: 'InvalidVSwitchId.IpNotEnough', message: 'm', requestId: 'r-2' }), 'CreateNetworkInterface');
    expect(client).toMatchObject({ kind: 'SubnetExhausted', transient: false, requestId: 'r-2' });
    const server = classifyAlibabaError(new ServerError({ statusCode: 503, code: 'ServiceUnavailable', message: 'm', requestId: 'undefined' }), 'X');
    expect(server).toMatchObject({ kind: 'ServerError', transient: true });
    expect(server.requestId).toBeUndefined();
  });

  it('treats transport failures as Network, anything else as Unknown', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyAlibabaError(refused, 'X')).toMatchObject({ kind: 'Network', code: 'ECONNREFUSED' });
    const timeout = Object.assign(new Error('ReadTimeout: 10000. POST / failed.'), { name: 'RequestTimeoutError' });
    expect(classifyAlibabaError(timeout, 'X')).toMatchObject({ kind: 'Network', code: 'RequestTimeout' });
    expect(classifyAlibabaError(new TypeError('boom'), 'X')).toMatchObject({ kind: 'Unknown' });
    expect(classifyAlibabaError('weird', 'X')).toMatchObject({ kind: 'Unknown' });
  });
});

describe('ClientToken', () => {
  it('uses the key itself when it fits, a stable digest otherwise', () => {
    expect(clientToken('node-1-create-7')).toBe('node-1-create-7');
    expect(clientToken('node-1-assign-7', 2)).toBe('node-1-assign-7-2');
    const long = 'x'.repeat(70);
    expect(clientToken(long)).toHaveLength(64);
    expect(clientToken(long, 1)).toBe(clientToken(long, 1));
    expect(clientToken(long, 1)).not.toBe(clientToken(long, 2));
    expect(clientToken('has space')).toMatch(/^[0-9a-f]{64}$/);
  });
});
