// The contract between the emulator's HTTP server and each cloud's wire
// protocol (alibaba.ts, tencent.ts). The server owns transport concerns
// (rate limits, injected faults, dropped responses, stats); a protocol owns
// authentication, parameter parsing, dispatch into the World, and rendering
// results and errors exactly as its cloud does.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderType } from '../api/common.js';

export interface SimRequest {
  method: string;
  /** Path without the query string, e.g. "/". */
  path: string;
  /** The raw query string without '?', exactly as received (signatures cover it). */
  rawQuery: string;
  query: URLSearchParams;
  /** Lower-cased header names, as Node gives them. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  body: unknown;
  /** The API result code for stats: 'OK' or the error code the client sees. */
  code: string;
}

/** Errors the server can inject in place of a real answer. */
export type InjectedError = 'Throttled' | 'InternalError' | 'ServiceUnavailable' | 'Conflict';

export interface Protocol {
  readonly provider: ProviderType;
  /** Whether this request speaks this protocol (by its headers). */
  claims(req: SimRequest): boolean;
  /** The API action named by the request, for rate limits, faults and stats. */
  action(req: SimRequest): string | undefined;
  /**
   * Authenticates, validates and performs the request against the world.
   * Synchronous on purpose: nothing else runs between check and change.
   */
  handle(req: SimRequest, requestId: string): SimResponse;
  /** The cloud's own answer to an injected or rate-limit error. */
  error(kind: InjectedError, req: SimRequest, requestId: string): SimResponse;
}
