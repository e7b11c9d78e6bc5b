// Cloud errors, classified once, here, from each provider's codes. Everything
// above the provider layer reasons about `kind`, never about raw codes.
import type { ProviderType } from '../api/common.js';

export type CloudErrorKind =
  /** The subnet has no free IPs: pick another subnet, back off. */
  | 'SubnetExhausted'
  /** ENIs per instance or IPs per ENI exhausted. */
  | 'QuotaExceeded'
  /** The object is gone: done, for delete / unassign / detach. */
  | 'NotFound'
  /** The object is in a state that forbids the call now: retry later. */
  | 'InvalidState'
  | 'Throttled'
  /** Bad credentials or signature: stop and report, never retry in a loop. */
  | 'AuthFailed'
  /** Another operation on the same object is running. */
  | 'Conflict'
  /** 5xx or the cloud's internal error. */
  | 'ServerError'
  /** Connection reset, refused, timed out before an answer. */
  | 'Network'
  /** An async operation did not settle before its deadline. */
  | 'Timeout'
  /** The request itself is wrong: a bug or bad configuration. */
  | 'InvalidRequest'
  | 'Unknown';

/** Kinds worth retrying at once (with backoff) inside one logical operation. */
export const TRANSIENT: ReadonlySet<CloudErrorKind> = new Set(['Throttled', 'Conflict', 'ServerError', 'Network']);

export class CloudError extends Error {
  override readonly name = 'CloudError';

  constructor(
    readonly kind: CloudErrorKind,
    readonly provider: ProviderType,
    readonly api: string,
    /** The provider's own code (e.g. InvalidVSwitchId.IpNotEnough), or a transport code. */
    readonly code: string,
    message: string,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider} ${api}: ${code}: ${message}`, options);
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

/** Node's error codes for a connection that failed or broke before an answer. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Recognises transport failures whatever the SDK wraps them in. */
export function isNetworkError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|network socket disconnected/i.test(e.message)) return true;
  }
  return false;
}

/** Replaces each secret that appears in `text` (credentials must never reach logs or events). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}
