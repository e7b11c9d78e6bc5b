import { CloudError } from '../errors.js';
import { classifyTencent, kindOfCode } from './classify.js';

/** What the SDK throws for an error answer: TencentCloudSDKHttpException with .code and .requestId. */
const sdkError = (code: string, requestId = 'req-1') => Object.assign(new Error(`message of ${code}`), { code, requestId, traceId: 't' });

describe('classifyTencent', () => {
  test.each([
    ['ResourceInsufficient.Subnet', 'SubnetExhausted'],
    ['ResourceInsufficient', 'SubnetExhausted'],
    ['LimitExceeded', 'QuotaExceeded'],
    ['LimitExceeded.Address', 'QuotaExceeded'],
    ['LimitExceeded.NetworkInterfaceLimitExceeded', 'QuotaExceeded'],
    ['LimitExceeded.ActionLimited', 'Throttled'],
    ['RequestLimitExceeded', 'Throttled'],
    ['RequestLimitExceeded.UinLimitExceeded', 'Throttled'],
    ['ResourceNotFound', 'NotFound'],
    ['InvalidInstanceId.NotFound', 'NotFound'],
    ['InvalidNetworkInterfaceId.NotFound', 'NotFound'],
    ['UnsupportedOperation.AttachmentNotFound', 'NotFound'],
    ['UnsupportedOperation.InvalidState', 'InvalidState'],
    ['UnsupportedOperation.MutexOperationTaskRunning', 'Conflict'],
    ['OperationDenied.MutexTaskRunning', 'Conflict'],
    ['AuthFailure.SignatureFailure', 'AuthFailed'],
    ['AuthFailure.SecretIdNotFound', 'AuthFailed'],
    ['AuthFailure.SignatureExpire', 'AuthFailed'],
    ['UnauthorizedOperation', 'AuthFailed'],
    ['InternalError', 'ServerError'],
    ['InternalError.ModuleError', 'ServerError'],
    ['ServiceUnavailable', 'ServerError'],
    ['FailedOperation.TaskFailed', 'ServerError'],
    ['InvalidParameter', 'InvalidRequest'],
    ['InvalidParameterValue.Range', 'InvalidRequest'],
    ['MissingParameter', 'InvalidRequest'],
    ['UnknownParameter', 'InvalidRequest'],
    ['InvalidAction', 'InvalidRequest'],
    ['NoSuchVersion', 'InvalidRequest'],
    ['UnsupportedRegion', 'InvalidRequest'],
    ['UnsupportedOperation.ZoneMismatch', 'InvalidRequest'],
    ['UnsupportedOperation.IdempotentParameterMismatch', 'InvalidRequest'],
    ['ResourceInUse.Address', 'InvalidRequest'],
    ['SomethingNew', 'Unknown'],
  ])('%s → %s', (code, kind) => {
    expect(kindOfCode(code)).toBe(kind);
    const err = classifyTencent(sdkError(code), 'AssignPrivateIpAddresses');
    expect(err).toMatchObject({ kind, code, provider: 'tencent', api: 'AssignPrivateIpAddresses', requestId: 'req-1' });
  });

  test('transport failures, as the SDK rethrows them, are Network', () => {
    for (const message of ['request to http://127.0.0.1:1/ failed, reason: connect ECONNREFUSED 127.0.0.1:1', 'network timeout at: http://127.0.0.1:9/', 'socket hang up']) {
      expect(classifyTencent(Object.assign(new Error(message), { requestId: '', traceId: 't' }), 'X')).toMatchObject({ kind: 'Network', code: 'Network' });
    }
  });

  test('non-200 answers carry only an HTTP status', () => {
    expect(classifyTencent(Object.assign(new Error('Bad Gateway'), { httpCode: 502 }), 'X')).toMatchObject({ kind: 'ServerError', code: 'HTTP502' });
    expect(classifyTencent(Object.assign(new Error('Too Many'), { httpCode: 429 }), 'X')).toMatchObject({ kind: 'Throttled' });
    expect(classifyTencent(Object.assign(new Error('Teapot'), { httpCode: 418 }), 'X')).toMatchObject({ kind: 'Unknown' });
  });

  test('passes CloudErrors through and survives odd throws', () => {
    const ce = new CloudError('Timeout', 'tencent', 'X', 'Timeout', 'slow');
    expect(classifyTencent(ce, 'X')).toBe(ce);
    expect(classifyTencent('a string', 'X')).toMatchObject({ kind: 'Unknown' });
    expect(classifyTencent(undefined, 'X').transient).toBe(false);
  });
});
