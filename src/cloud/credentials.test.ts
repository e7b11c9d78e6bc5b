import { inspect } from 'node:util';
import { Credentials, credentialsFromSecret } from './credentials.js';
import { parseEndpoint } from './endpoint.js';
import { optionsFromSpec } from './factory.js';

describe('credentials', () => {
  test('read from data (base64) or stringData, with the provider key names', () => {
    const ali = credentialsFromSecret('alibaba', { data: { accessKeyId: Buffer.from('LTAIkey').toString('base64'), accessKeySecret: Buffer.from('s3cret\n').toString('base64') } }, 'ns/a');
    expect([ali.id, ali.secret]).toEqual(['LTAIkey', 's3cret']);
    const tc = credentialsFromSecret('tencent', { stringData: { secretId: 'AKID', secretKey: 'key' } }, 'ns/t');
    expect([tc.id, tc.secret]).toEqual(['AKID', 'key']);
  });

  test('a missing key is named, with what the Secret needs', () => {
    expect(() => credentialsFromSecret('tencent', { data: { secretId: 'QUtJRA==' } }, 'kube-system/tc')).toThrow(
      'Secret kube-system/tc has no "secretKey" (a tencent Secret needs secretId and secretKey)',
    );
  });

  test('never print or serialise their values', () => {
    const c = new Credentials('AKIDvisible', 'hidden-secret');
    for (const text of [String(c), JSON.stringify({ c }), inspect(c), `${c.toString()}`]) expect(text).not.toMatch(/hidden-secret|AKIDvisible/);
  });
});

describe('endpoints and options', () => {
  test('plain HTTP only when allowed', () => {
    expect(parseEndpoint('127.0.0.1:8080', true)).toEqual({ host: '127.0.0.1:8080', insecure: true });
    expect(parseEndpoint('https://ecs.example.com', false)).toEqual({ host: 'ecs.example.com', insecure: false });
    expect(parseEndpoint('ecs.example.com', false)).toEqual({ host: 'ecs.example.com', insecure: false });
    expect(() => parseEndpoint('http://127.0.0.1:8080', false)).toThrow('plain HTTP; set allowInsecureHTTP');
    expect(() => parseEndpoint('ftp://x', true)).toThrow('is not host[:port]');
  });

  test('a NetworkMode provider spec becomes provider options', () => {
    const creds = new Credentials('a', 'b');
    const opts = optionsFromSpec(
      { type: 'alibaba', region: 'cn-hangzhou', credentialsSecretRef: { name: 'x', namespace: 'y' }, endpoint: 'http://127.0.0.1:9000', allowInsecureHTTP: true, rateLimit: { qps: 7, burst: 9 }, vpcId: 'vpc-bp1example0vpc01' },
      creds,
    );
    expect(opts).toEqual({ region: 'cn-hangzhou', credentials: creds, rateLimit: { qps: 7, burst: 9 }, endpoint: { host: '127.0.0.1:9000', insecure: true }, vpcId: 'vpc-bp1example0vpc01' });
  });
});
