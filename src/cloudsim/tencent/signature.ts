// TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature, exactly as
// tencentcloud-sdk-nodejs computes it. Pure: the emulator verifies with it,
// and tests sign raw requests with it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TC3 = 'TC3-HMAC-SHA256';

export interface Tc3Input {
  secretKey: string;
  /** The SDK's service: the first dot-separated label of the endpoint it was given. */
  service: string;
  /** Unix seconds, as sent in X-TC-Timestamp. */
  timestamp: number;
  /** Signed headers, lower-case names, with the values that go into the canonical request. */
  headers: Record<string, string>;
  body: Buffer | string;
  method?: string;
  path?: string;
  query?: string;
}

const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The UTC date (YYYY-MM-DD) of a unix timestamp: the credential scope's date. */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/**
 * The service name the SDK derives from its endpoint: `endpoint.split('.')[0]`.
 * With a port and no dot ("localhost:8080") the port stays in, as in the SDK.
 */
export function serviceOf(endpointOrHost: string): string {
  return endpointOrHost.split('.')[0] ?? '';
}

/** The host as it appears in the canonical headers: without the port. */
export function canonicalHost(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

export function canonicalRequest(input: Tc3Input): { text: string; signedHeaders: string } {
  const names = Object.keys(input.headers).sort();
  const headerBlock = names.map((n) => `${n}:${input.headers[n]!.trim().toLowerCase()}\n`).join('');
  const signedHeaders = names.join(';');
  const text = [input.method ?? 'POST', input.path ?? '/', input.query ?? '', headerBlock, signedHeaders, sha256Hex(input.body)].join('\n');
  return { text, signedHeaders };
}

/** The hex signature of a request. */
export function tc3Signature(input: Tc3Input): string {
  const date = tc3Date(input.timestamp);
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = `${TC3}\n${input.timestamp}\n${scope}\n${sha256Hex(canonicalRequest(input).text)}`;
  const kDate = hmac(`TC3${input.secretKey}`, date);
  const kService = hmac(kDate, input.service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

/** The Authorization header value, formatted as the SDK formats it. */
export function tc3Authorization(secretId: string, input: Tc3Input): string {
  const date = tc3Date(input.timestamp);
  const { signedHeaders } = canonicalRequest(input);
  return `${TC3} Credential=${secretId}/${date}/${input.service}/tc3_request, SignedHeaders=${signedHeaders}, Signature=${tc3Signature(input)}`;
}

export interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses a TC3 Authorization header; undefined when it is not one. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  if (!value) return undefined;
  const m = /^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request\s*,\s*SignedHeaders=([a-z0-9;-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/.exec(value);
  if (!m) return undefined;
  return { secretId: m[1]!, date: m[2]!, service: m[3]!, signedHeaders: m[4]!.split(';'), signature: m[5]! };
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
