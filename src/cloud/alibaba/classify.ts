// Alibaba error codes -> CloudErrorKind. The SDK (@alicloud/openapi-core)
// throws ThrottlingError / ClientError / ServerError carrying the API's
// `code`, `statusCode` and `requestId`; transport failures arrive as Node's
// own errors. Pure: no I/O, so the table is tested on its own.
import { CloudError, isNetworkError, type CloudErrorKind } from '../errors.js';

/** Exact codes whose kind does not follow from the patterns below. */
const EXACT: Record<string, CloudErrorKind> = {
  'InvalidVSwitchId.IpNotEnough': 'SubnetExhausted',
  // Private IP quota of the vSwitch's VPC: another subnet is the way out, as for IpNotEnough.
  'QuotaExceeded.PrivateIpAddress': 'SubnetExhausted',
  EniPerInstanceLimitExceeded: 'QuotaExceeded',
  MaxEniCountExceeded: 'QuotaExceeded',
  'InvalidOperation.Ipv4CountExceeded': 'QuotaExceeded',
  'InvalidOperation.Ipv6CountExceeded': 'QuotaExceeded',
  // The address is no longer on the ENI: for unassign that is done.
  'InvalidIp.IpUnassigned': 'NotFound',
  'InvalidOperation.InvalidEniState': 'InvalidState',
  'InvalidOperation.InvalidEcsState': 'InvalidState',
  IncorrectInstanceStatus: 'InvalidState',
  'IncorrectInstanceStatus.Initializing': 'InvalidState',
  'Operation.Conflict': 'Conflict',
  OperationConflict: 'Conflict',
  LastTokenProcessing: 'Conflict',
  IdempotentProcessing: 'Conflict',
  // Not-found codes that mean a wrong request or setup, never "already gone".
  'InvalidAccessKeyId.NotFound': 'AuthFailed',
  'InvalidRegionId.NotFound': 'InvalidRequest',
  'InvalidAction.NotFound': 'InvalidRequest',
  'InvalidApi.NotFound': 'InvalidRequest',
  'InvalidSecurityGroupId.NotFound': 'InvalidRequest',
  SignatureDoesNotMatch: 'AuthFailed',
  IncompleteSignature: 'AuthFailed',
  SignatureNonceUsed: 'AuthFailed',
  NoPermission: 'AuthFailed',
  // The SDK's own, when no credentials are configured.
  InvalidCredentials: 'AuthFailed',
  InternalError: 'ServerError',
  UnknownError: 'ServerError',
  ServiceUnavailable: 'ServerError',
  ServiceUnavailableTemporary: 'ServerError',
  ServiceBusy: 'ServerError',
};

const PATTERNS: [RegExp, CloudErrorKind][] = [
  [/Throttling/, 'Throttled'],
  [/^(InvalidAccessKey|InvalidSecurityToken|InvalidTimeStamp|Forbidden)/, 'AuthFailed'],
  [/^QuotaExceed/, 'QuotaExceeded'],
  [/\.NotFound$/, 'NotFound'],
  [/^(IncorrectStatus|IncorrectInstanceStatus|IncorrectVSwitchStatus)/, 'InvalidState'],
  [/^(Missing|Invalid|Unsupported|Idempotent|DependencyViolation)/, 'InvalidRequest'],
];

/** The kind for an Alibaba error code and HTTP status. */
export function kindOf(code: string, status: number | undefined): CloudErrorKind {
  const exact = EXACT[code];
  if (exact) return exact;
  for (const [re, kind] of PATTERNS) if (re.test(code)) return kind;
  if (status !== undefined && status >= 500) return 'ServerError';
  return 'Unknown';
}

interface SdkErrorShape {
  code?: unknown;
  statusCode?: unknown;
  requestId?: unknown;
  name?: unknown;
  message?: unknown;
  data?: { Message?: unknown };
}

/** The classification function handed to CloudCaller. */
export function classifyAlibabaError(err: unknown, api: string): CloudError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (isNetworkError(err) || e.name === 'RequestTimeoutError') {
    const code = typeof e.code === 'string' ? e.code : e.name === 'RequestTimeoutError' ? 'RequestTimeout' : 'NetworkError';
    return new CloudError('Network', 'alibaba', api, code, message, undefined, { cause: err });
  }
  if (typeof e.code === 'string' && e.code !== '') {
    const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
    const requestId = typeof e.requestId === 'string' && e.requestId !== 'undefined' ? e.requestId : undefined;
    // The API's own message reads better than the SDK's "code: 400, ... request id: ..." wrapping.
    const text = typeof e.data?.Message === 'string' ? e.data.Message : message;
    return new CloudError(kindOf(e.code, status), 'alibaba', api, e.code, text, requestId, { cause: err });
  }
  return new CloudError('Unknown', 'alibaba', api, 'Unknown', message, undefined, { cause: err });
}
