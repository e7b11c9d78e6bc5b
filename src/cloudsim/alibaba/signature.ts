// ACS3-HMAC-SHA256, the v3 request signature of Alibaba Cloud's OpenAPI, as
// @alicloud/openapi-core computes it. Pure: the emulator verifies with it and
// tests sign raw requests with it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ACS3 = 'ACS3-HMAC-SHA256';

/** RFC 3986 encoding as the SDK does it: encodeURIComponent plus !'()*. */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const isMap = (p: ReadonlyMap<string, string> | Record<string, string>): p is ReadonlyMap<string, string> => p instanceof Map;

/** Sorted `key=encoded(value)` pairs. Keys are left as they are, as the SDK leaves them. */
export function canonicalQuery(params: ReadonlyMap<string, string> | Record<string, string>): string {
  const entries: [string, string][] = isMap(params) ? [...params.entries()] : Object.entries(params);
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${acsEncode(v)}`)
    .join('&');
}

export interface CanonicalInput {
  method: string;
  path: string;
  params: ReadonlyMap<string, string> | Record<string, string>;
  /** Lower-case names of the signed headers, with their values. */
  headers: Record<string, string>;
  signedHeaders: string[];
  bodySha256: string;
}

export function canonicalRequest(input: CanonicalInput): string {
  const names = [...input.signedHeaders].sort();
  const headerBlock = names.map((n) => `${n}:${(input.headers[n] ?? '').trim()}\n`).join('');
  return [input.method, input.path || '/', canonicalQuery(input.params), headerBlock, names.join(';'), input.bodySha256].join('\n');
}

export function stringToSign(canonical: string): string {
  return `${ACS3}\n${sha256Hex(canonical)}`;
}

export function signature(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(stringToSign(canonical)).digest('hex');
}

export interface ParsedAuthorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; undefined when malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = /^ACS3-HMAC-SHA256\s+(.*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const sig = fields.get('Signature');
  if (!accessKeyId || !signed || !sig || !/^[0-9a-f]{64}$/i.test(sig)) return undefined;
  return { accessKeyId, signedHeaders: signed.split(';').map((h) => h.trim().toLowerCase()), signature: sig.toLowerCase() };
}

export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Headers a client must send and sign, as the v7 SDK does. */
export const REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];

export interface SignInput {
  accessKeyId: string;
  secret: string;
  host: string;
  action: string;
  version: string;
  params: Record<string, string>;
  date?: string;
  nonce?: string;
}

/** Headers for a request signed exactly as the SDK signs it (for raw clients and tests). */
export function signedHeadersFor(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': input.date ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    'x-acs-signature-nonce': input.nonce ?? createHash('sha256').update(`${Date.now()}-${Math.random()}`).digest('hex').slice(0, 32),
    'x-acs-content-sha256': sha256Hex(''),
  };
  const names = Object.keys(headers);
  const canonical = canonicalRequest({ method: 'POST', path: '/', params: input.params, headers, signedHeaders: names, bodySha256: headers['x-acs-content-sha256']! });
  const sig = signature(input.secret, canonical);
  return { ...headers, authorization: `${ACS3} Credential=${input.accessKeyId},SignedHeaders=${[...names].sort().join(';')},Signature=${sig}` };
}

/** The query string the SDK would send for `params`. */
export function queryString(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}
