import type { SimRequest } from '../protocol.js';
import { acsEncode, canonicalQuery, canonicalRequest, parseAuthorization, sha256Hex, signature, signedHeadersFor } from './signature.js';
import { verifyRequest } from './verify.js';

// Captured from @alicloud/ecs20140526 7.11.6 (openapi-core 1.0.8) calling a local server.
const VECTOR = {
  url: "/?ClientToken=pool-1&RegionId=cn-hangzhou&SecondaryPrivateIpAddressCount=2&SecurityGroupIds.1=sg-bp1simpods00000001&Tag.1.Key=owner&Tag.1.Value=it%27s%20(a*b)!&VSwitchId=vsw-bp1simpodsi000001",
  headers: {
    host: '127.0.0.1:42339',
    'x-acs-version': '2014-05-26',
    'x-acs-action': 'CreateNetworkInterface',
    'user-agent': 'AlibabaCloud (linux; x64) Node.js/v24.21.0 Core/1.0.1 TeaDSL/2',
    'x-acs-date': '2026-11-22T01:10:12Z',
    'x-acs-signature-nonce': '95e948dd817e6df0414facd59479b7162f683e5c8bb9df4d5b3e1239601f5022',
    accept: 'application/json',
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-acs-credentials-provider': 'static_ak',
    authorization:
      'ACS3-HMAC-SHA256 Credential=LTAI5tSimulatorKey0001,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=5727677e955f9f0c96b625519f02d401aef0807d2bb7b1519fd86278bb91dc09',
  } as Record<string, string>,
  accessKeyId: 'LTAI5tSimulatorKey0001',
  secret: 'sim-alibaba-secret-0001',
  signature: '5727677e955f9f0c96b625519f02d401aef0807d2bb7b1519fd86278bb91dc09',
};

function simRequest(url: string, headers: Record<string, string>, body = Buffer.alloc(0)): SimRequest {
  const q = url.indexOf('?');
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  return { method: 'POST', path: q < 0 ? url : url.slice(0, q), rawQuery, query: new URLSearchParams(rawQuery), headers, body };
}

const queryMap = (req: SimRequest) => new Map(req.query);
const secrets = (ak: string) => (ak === VECTOR.accessKeyId ? VECTOR.secret : undefined);

describe('ACS3-HMAC-SHA256', () => {
  it('encodes like the SDK: RFC 3986 plus !\'()*', () => {
    expect(acsEncode("it's (a*b)! ~x y")).toBe('it%27s%20%28a%2Ab%29%21%20~x%20y');
  });

  it('sorts parameters by name and leaves names unencoded', () => {
    expect(canonicalQuery({ b: '2', 'Tag.1.Key': 'k v', A: '1' })).toBe('A=1&Tag.1.Key=k%20v&b=2');
  });

  it('reproduces the signature the official SDK computed', () => {
    const req = simRequest(VECTOR.url, VECTOR.headers);
    const auth = parseAuthorization(VECTOR.headers.authorization)!;
    expect(auth.accessKeyId).toBe(VECTOR.accessKeyId);
    const canonical = canonicalRequest({ method: 'POST', path: '/', params: queryMap(req), headers: VECTOR.headers, signedHeaders: auth.signedHeaders, bodySha256: sha256Hex('') });
    expect(canonical.split('\n').slice(0, 3)).toEqual([
      'POST',
      '/',
      'ClientToken=pool-1&RegionId=cn-hangzhou&SecondaryPrivateIpAddressCount=2&SecurityGroupIds.1=sg-bp1simpods00000001&Tag.1.Key=owner&Tag.1.Value=it%27s%20%28a%2Ab%29%21&VSwitchId=vsw-bp1simpodsi000001',
    ]);
    expect(signature(VECTOR.secret, canonical)).toBe(VECTOR.signature);
  });

  it('accepts the SDK request and refuses tampering, unknown keys and wrong secrets', () => {
    expect(verifyRequest(simRequest(VECTOR.url, VECTOR.headers), queryMap(simRequest(VECTOR.url, VECTOR.headers)), secrets)).toBeUndefined();
    const tampered = simRequest(VECTOR.url.replace('Count=2', 'Count=3'), VECTOR.headers);
    expect(verifyRequest(tampered, queryMap(tampered), secrets)?.code).toBe('SignatureDoesNotMatch');
    const otherHeader = simRequest(VECTOR.url, { ...VECTOR.headers, 'x-acs-action': 'DeleteNetworkInterface' });
    expect(verifyRequest(otherHeader, queryMap(otherHeader), secrets)?.code).toBe('SignatureDoesNotMatch');
    const req = simRequest(VECTOR.url, VECTOR.headers);
    expect(verifyRequest(req, queryMap(req), () => 'another-secret')?.code).toBe('SignatureDoesNotMatch');
    expect(verifyRequest(req, queryMap(req), () => undefined)).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', status: 404 });
  });

  it('refuses a body that does not match its declared hash, and unsigned x-acs headers', () => {
    const withBody = simRequest(VECTOR.url, VECTOR.headers, Buffer.from('x'));
    expect(verifyRequest(withBody, queryMap(withBody), secrets)?.code).toBe('SignatureDoesNotMatch');
    const extra = simRequest(VECTOR.url, { ...VECTOR.headers, 'x-acs-security-token': 'sneaked-in' });
    expect(verifyRequest(extra, queryMap(extra), secrets)).toMatchObject({ code: 'IncompleteSignature', status: 400 });
    const { authorization: _a, ...unsigned } = VECTOR.headers;
    const none = simRequest(VECTOR.url, unsigned);
    expect(verifyRequest(none, queryMap(none), secrets)?.code).toBe('IncompleteSignature');
    expect(parseAuthorization('ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host')).toBeUndefined();
  });

  it('signs raw requests that it then verifies', () => {
    const params = { RegionId: 'cn-hangzhou', 'Tag.1.Value': "a'b (c)" };
    const headers = signedHeadersFor({ accessKeyId: VECTOR.accessKeyId, secret: VECTOR.secret, host: '127.0.0.1:1', action: 'DescribeNetworkInterfaces', version: '2014-05-26', params });
    const url = `/?${new URLSearchParams(params).toString().replace(/\+/g, '%20')}`;
    const req = simRequest(url, headers);
    expect(verifyRequest(req, queryMap(req), secrets)).toBeUndefined();
  });
});
