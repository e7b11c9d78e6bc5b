// Tencent error codes → CloudErrorKind, once, here. Pure.
// The SDK throws TencentCloudSDKHttpException: `.code` from the Response's
// Error, `.requestId`; for a non-200 answer only `.httpCode`; for a transport
// failure neither (only node-fetch's message, the cause is dropped).
import { CloudError, isNetworkError, type CloudErrorKind } from '../errors.js';

/** Exact codes first, then prefixes; the first match wins. */
const EXACT: Record<string, CloudErrorKind> = {
  'LimitExceeded.ActionLimited': 'Throttled',
  'UnsupportedOperation.AttachmentNotFound': 'NotFound',
  'UnauthorizedOperation.AttachmentNotFound': 'NotFound',
  'UnsupportedOperation.InvalidState': 'InvalidState',
  'UnsupportedOperation.ResourceIsInvalidState': 'InvalidState',
  'UnsupportedOperation.InvalidInstanceState': 'InvalidState',
  'InvalidParameterValue.InvalidInstanceState': 'InvalidState',
  'UnsupportedOperation.MutexOperationTaskRunning': 'Conflict',
  'OperationDenied.MutexTaskRunning': 'Conflict',
  'UnsupportedOperation.IdempotentProcessing': 'Conflict',
  ActionLocked: 'Conflict',
  'FailedOperation.TaskFailed': 'ServerError',
  ServiceUnavailable: 'ServerError',
  InternalServerError: 'ServerError',
  ResourceUnavailable: 'ServerError',
  'ResourceInUse.Address': 'InvalidRequest',
  'UnauthorizedOperation.PrimaryIp': 'InvalidRequest',
  'LimitExceeded.NumberOfFilters': 'InvalidRequest',
};

const PREFIXES: [string, CloudErrorKind][] = [
  ['ResourceInsufficient', 'SubnetExhausted'],
  ['LimitExceeded', 'QuotaExceeded'],
  ['RequestLimitExceeded', 'Throttled'],
  ['ResourceNotFound', 'NotFound'],
  ['AuthFailure', 'AuthFailed'],
  ['UnauthorizedOperation', 'AuthFailed'],
  ['InternalError', 'ServerError'],
  ['InvalidParameter', 'InvalidRequest'],
  ['InvalidParameterValue', 'InvalidRequest'],
  ['InvalidParameterConflict', 'InvalidRequest'],
  ['MissingParameter', 'InvalidRequest'],
  ['UnknownParameter', 'InvalidRequest'],
  ['InvalidAction', 'InvalidRequest'],
  ['NoSuchVersion', 'InvalidRequest'],
  ['UnsupportedRegion', 'InvalidRequest'],
  ['UnsupportedProtocol', 'InvalidRequest'],
  ['UnsupportedOperation', 'InvalidRequest'],
];

/** The kind of a Tencent error code. */
export function kindOfCode(code: string): CloudErrorKind {
  const exact = EXACT[code];
  if (exact) return exact;
  // InvalidInstanceId.NotFound, InvalidSecurityGroupID.NotFound, InvalidVpcId.NotFound, ...
  if (code.endsWith('.NotFound')) return 'NotFound';
  for (const [prefix, kind] of PREFIXES) if (code === prefix || code.startsWith(`${prefix}.`)) return kind;
  return 'Unknown';
}

interface SdkError {
  message?: unknown;
  code?: unknown;
  requestId?: unknown;
  httpCode?: unknown;
}

/** Transport failures as node-fetch words them inside the SDK's exception. */
const TRANSPORT = /network timeout|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ECONNABORTED|request to \S+ failed/i;

export function classifyTencent(err: unknown, api: string): CloudError {
  if (err instanceof CloudError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkError;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const requestId = typeof e.requestId === 'string' && e.requestId !== '' ? e.requestId : undefined;
  const make = (kind: CloudErrorKind, code: string) => new CloudError(kind, 'tencent', api, code, message, requestId, { cause: err });
  if (typeof e.code === 'string' && e.code !== '') return make(kindOfCode(e.code), e.code);
  if (typeof e.httpCode === 'number') {
    const kind: CloudErrorKind = e.httpCode >= 500 ? 'ServerError' : e.httpCode === 429 ? 'Throttled' : 'Unknown';
    return make(kind, `HTTP${e.httpCode}`);
  }
  if (isNetworkError(err) || TRANSPORT.test(message)) return make('Network', 'Network');
  return make('Unknown', 'Unknown');
}
