// Tencent's answers: always HTTP 200, the result or the error inside
// {"Response": {..., "RequestId"}}; and the world's refusals as Tencent codes.
import type { InjectedError, SimResponse } from '../protocol.js';
import type { SimErrorKind } from '../world.js';

export function ok(requestId: string, result: Record<string, unknown>): SimResponse {
  return { status: 200, body: { Response: { ...result, RequestId: requestId } }, code: 'OK' };
}

export function fail(requestId: string, code: string, message: string): SimResponse {
  return { status: 200, body: { Response: { Error: { Code: code, Message: message }, RequestId: requestId } }, code };
}

/**
 * The code VPC answers for each world refusal. Codes are from the VPC
 * 2017-03-12 error list (tencentcloud-sdk-go vpc/v20170312/errors.go and the
 * API references); see the module's notes for the ones chosen by meaning.
 */
export const SIM_ERROR_CODES: Record<SimErrorKind, string> = {
  InvalidRegion: 'UnsupportedRegion',
  InvalidParameter: 'InvalidParameterValue',
  EniNotFound: 'ResourceNotFound',
  InstanceNotFound: 'InvalidInstanceId.NotFound',
  SubnetNotFound: 'ResourceNotFound',
  SecurityGroupNotFound: 'InvalidSecurityGroupID.NotFound',
  TaskNotFound: 'ResourceNotFound',
  InvalidEniState: 'UnsupportedOperation.InvalidState',
  EniNotAttached: 'UnsupportedOperation.AttachmentNotFound',
  // The primary ENI cannot be detached: not a state that will pass, so not InvalidState.
  DetachPrimaryEni: 'UnsupportedOperation',
  ZoneMismatch: 'UnsupportedOperation.ZoneMismatch',
  VpcMismatch: 'UnsupportedOperation.VpcMismatch',
  // Per-instance ENI quota. (LimitExceeded.NetworkInterfaceLimitExceeded is ENIs per VPC.)
  EniLimitExceeded: 'LimitExceeded',
  IpLimitExceeded: 'LimitExceeded.Address',
  SubnetExhausted: 'ResourceInsufficient.Subnet',
  IpAlreadyAssigned: 'ResourceInUse.Address',
  IpNotAssigned: 'ResourceNotFound',
  IdempotenceMismatch: 'UnsupportedOperation.IdempotentParameterMismatch',
};

const INJECTED: Record<InjectedError, [string, string]> = {
  Throttled: ['RequestLimitExceeded', 'Your current request times exceed the frequency limit of this API.'],
  InternalError: ['InternalError', 'An internal error has occurred. Retry your request.'],
  ServiceUnavailable: ['ServiceUnavailable', 'The service is temporarily unavailable. Retry your request.'],
  Conflict: ['UnsupportedOperation.MutexOperationTaskRunning', 'A mutually exclusive task is running on this resource. Retry later.'],
};

export function injected(kind: InjectedError, requestId: string): SimResponse {
  const [code, message] = INJECTED[kind];
  return fail(requestId, code, message);
}
