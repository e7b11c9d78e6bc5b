// Checks a request's ACS3-HMAC-SHA256 signature the way Alibaba's gateway
// does: the key must exist, every x-acs-* header must be signed, the body must
// match its declared hash, and the signature must match our own computation.
import type { SimRequest } from '../protocol.js';
import { GATEWAY, type AlibabaError } from './errors.js';
import { canonicalRequest, parseAuthorization, REQUIRED_SIGNED, sha256Hex, signature, signaturesEqual } from './signature.js';

/** Undefined when the request is authentic; otherwise the refusal to send. */
export function verifyRequest(req: SimRequest, query: ReadonlyMap<string, string>, secretFor: (accessKeyId: string) => string | undefined): AlibabaError | undefined {
  const raw = req.headers.authorization;
  if (raw === undefined) return GATEWAY.incompleteSignature('no Authorization header');
  const auth = parseAuthorization(raw);
  if (!auth) return GATEWAY.incompleteSignature('Authorization is not "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=..."');
  const secret = secretFor(auth.accessKeyId);
  if (secret === undefined) return GATEWAY.unknownKey();

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const mustSign = [...REQUIRED_SIGNED, ...Object.keys(headers).filter((h) => h.startsWith('x-acs-') || h === 'content-type')];
  const unsigned = mustSign.filter((h) => !auth.signedHeaders.includes(h));
  if (unsigned.length > 0) return GATEWAY.incompleteSignature(`header(s) ${[...new Set(unsigned)].join(', ')} must be present and signed`);

  const bodySha256 = sha256Hex(req.body);
  if (headers['x-acs-content-sha256'] !== bodySha256) return GATEWAY.badSignature();
  const canonical = canonicalRequest({ method: req.method, path: req.path, params: query, headers, signedHeaders: auth.signedHeaders, bodySha256 });
  return signaturesEqual(signature(secret, canonical), auth.signature) ? undefined : GATEWAY.badSignature();
}
