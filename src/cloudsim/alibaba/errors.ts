// Alibaba's error codes and HTTP statuses for everything the emulator can
// refuse, and the JSON envelope its gateway answers errors with.
import type { InjectedError, SimResponse } from '../protocol.js';
import type { SimError, SimErrorKind } from '../world.js';

export interface AlibabaError {
  status: number;
  code: string;
  message: string;
}

/** World refusals, by kind. `message` is used when the world's own text says less. */
const BY_KIND: Record<SimErrorKind, { status: number; code: string }> = {
  InvalidRegion: { status: 404, code: 'InvalidRegionId.NotFound' },
  InvalidParameter: { status: 400, code: 'InvalidParameter' },
  EniNotFound: { status: 404, code: 'InvalidEniId.NotFound' },
  InstanceNotFound: { status: 404, code: 'InvalidEcsId.NotFound' },
  SubnetNotFound: { status: 404, code: 'InvalidVSwitchId.NotFound' },
  SecurityGroupNotFound: { status: 404, code: 'InvalidSecurityGroupId.NotFound' },
  TaskNotFound: { status: 404, code: 'InvalidTaskId.NotFound' },
  InvalidEniState: { status: 400, code: 'InvalidOperation.InvalidEniState' },
  // Alibaba refuses detaching an ENI that is not attached as a state error.
  EniNotAttached: { status: 400, code: 'InvalidOperation.InvalidEniState' },
  DetachPrimaryEni: { status: 400, code: 'InvalidOperation.DetachPrimaryEniNotAllowed' },
  ZoneMismatch: { status: 400, code: 'InvalidOperation.ZoneMismatch' },
  VpcMismatch: { status: 400, code: 'InvalidOperation.VpcMismatch' },
  EniLimitExceeded: { status: 403, code: 'EniPerInstanceLimitExceeded' },
  IpLimitExceeded: { status: 403, code: 'InvalidOperation.Ipv4CountExceeded' },
  SubnetExhausted: { status: 403, code: 'InvalidVSwitchId.IpNotEnough' },
  IpAlreadyAssigned: { status: 403, code: 'InvalidIp.IpAssigned' },
  IpNotAssigned: { status: 403, code: 'InvalidIp.IpUnassigned' },
  IdempotenceMismatch: { status: 400, code: 'IdempotentParameterMismatch' },
};

export function fromSimError(err: SimError): AlibabaError {
  const { status, code } = BY_KIND[err.kind];
  if (err.kind === 'VpcMismatch' && err.param === 'SecurityGroupIds') return { status, code: 'InvalidSecurityGroupId.VpcMismatch', message: err.message };
  return { status, code, message: err.message };
}

const INJECTED: Record<InjectedError, AlibabaError> = {
  Throttled: { status: 400, code: 'Throttling.User', message: 'Request was denied due to user flow control.' },
  InternalError: { status: 500, code: 'InternalError', message: 'The request processing has failed due to some unknown error, exception or failure.' },
  ServiceUnavailable: { status: 503, code: 'ServiceUnavailable', message: 'The request has failed due to a temporary failure of the server.' },
  Conflict: { status: 403, code: 'Operation.Conflict', message: 'The operation may conflict with other processes.' },
};

export function injected(kind: InjectedError): AlibabaError {
  return INJECTED[kind];
}

/** Gateway-level refusals (before any action runs). */
export const GATEWAY = {
  unknownAction: (action: string): AlibabaError => ({ status: 404, code: 'InvalidAction.NotFound', message: `Specified api is not found, please check your url and method. (${action})` }),
  badVersion: (version: string): AlibabaError => ({ status: 400, code: 'InvalidVersion', message: `Specified parameter Version is not valid. (${version})` }),
  badMethod: (method: string): AlibabaError => ({ status: 400, code: 'UnsupportedHTTPMethod', message: `Specified HTTP method ${method} is not supported.` }),
  incompleteSignature: (why: string): AlibabaError => ({ status: 400, code: 'IncompleteSignature', message: `The request signature does not conform to Aliyun standards: ${why}.` }),
  unknownKey: (): AlibabaError => ({ status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' }),
  badSignature: (): AlibabaError => ({ status: 400, code: 'SignatureDoesNotMatch', message: 'Specified signature is not matched with our calculation.' }),
};

/** The error envelope: `{RequestId, HostId, Code, Message, Recommend}`. */
export function errorResponse(err: AlibabaError, requestId: string, hostId: string, product: string): SimResponse {
  return {
    status: err.status,
    headers: { 'x-acs-request-id': requestId },
    body: {
      RequestId: requestId,
      HostId: hostId,
      Code: err.code,
      Message: err.message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}`,
    },
    code: err.code,
  };
}
