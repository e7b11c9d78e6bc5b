import { canonicalHost, parseAuthorization, sameSignature, serviceOf, tc3Authorization, tc3Date, tc3Signature } from './signature.js';

describe('TC3-HMAC-SHA256', () => {
  test('matches the worked example of the API 3.0 signature documentation', () => {
    // Tencent's documented example (its canonical request hashes to 5ffe6a04...).
    const body = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
    const signature = tc3Signature({
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      timestamp: 1551113065,
      headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
      body,
    });
    expect(signature).toBe('72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
  });

  test('reproduces the Authorization headers tencentcloud-sdk-nodejs 4.1.313 computed', () => {
    // Produced once with the SDK's own Sign.sign3 for these inputs.
    expect(
      tc3Authorization('AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', {
        secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
        service: 'cvm',
        timestamp: 1551113065,
        headers: { 'content-type': 'application/json', host: 'cvm.tencentcloudapi.com' },
        body: '{"Limit":1,"Filters":[{"Values":["未命名"],"Name":"instance-name"}]}',
      }),
    ).toBe('TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf');
    // Pointed at 127.0.0.1:8080 the SDK signs for service "127" and host "127.0.0.1".
    expect(
      tc3Authorization('AKIDSimulatorSecretId0001', {
        secretKey: 'sim-tencent-secret-0001',
        service: serviceOf('127.0.0.1:8080'),
        timestamp: 1700000000,
        headers: { 'content-type': 'application/json', host: canonicalHost('127.0.0.1:8080') },
        body: '{"NetworkInterfaceId":"eni-00000001"}',
      }),
    ).toBe('TC3-HMAC-SHA256 Credential=AKIDSimulatorSecretId0001/2023-11-14/127/tc3_request, SignedHeaders=content-type;host, Signature=5634923397bda9093ad4fda8793f6e9f179c610ae21c9755cbf183d2c421d426');
  });

  test('service and host as the SDK derives them', () => {
    expect(serviceOf('vpc.tencentcloudapi.com')).toBe('vpc');
    expect(serviceOf('127.0.0.1:8080')).toBe('127');
    expect(serviceOf('localhost:8080')).toBe('localhost:8080');
    expect(canonicalHost('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(canonicalHost('vpc.tencentcloudapi.com')).toBe('vpc.tencentcloudapi.com');
    expect(canonicalHost('[::1]:8080')).toBe('[::1]');
    expect(tc3Date(1551113065)).toBe('2019-02-25');
  });

  test('parses Authorization headers, with or without spaces after commas', () => {
    const sig = 'a'.repeat(64);
    expect(parseAuthorization(`TC3-HMAC-SHA256 Credential=AKID1/2024-01-02/127/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`)).toEqual({
      secretId: 'AKID1',
      date: '2024-01-02',
      service: '127',
      signedHeaders: ['content-type', 'host'],
      signature: sig,
    });
    expect(parseAuthorization(`TC3-HMAC-SHA256 Credential=AKID1/2024-01-02/vpc/tc3_request,SignedHeaders=host,Signature=${sig}`)?.signedHeaders).toEqual(['host']);
    for (const bad of [undefined, '', 'HMAC abc', `TC3-HMAC-SHA256 Credential=AKID1/2024-01-02/vpc/tc3_request, SignedHeaders=host, Signature=xyz`]) expect(parseAuthorization(bad)).toBeUndefined();
  });

  test('compares signatures of any length without throwing', () => {
    expect(sameSignature('ab', 'ab')).toBe(true);
    expect(sameSignature('ab', 'ac')).toBe(false);
    expect(sameSignature('ab', 'abc')).toBe(false);
  });
});
