import { cidrContains, cidrWithin, intToIp, ipToInt, isIPv4, parseCidr } from './ipv4.js';

test('IPv4 arithmetic', () => {
  expect(ipToInt('10.0.1.2')).toBe(167772418);
  expect(intToIp(ipToInt('255.255.255.255'))).toBe('255.255.255.255');
  expect(parseCidr('10.0.1.77/24')).toEqual({ base: ipToInt('10.0.1.0'), prefix: 24, size: 256, text: '10.0.1.0/24' });
  expect(cidrContains(parseCidr('10.0.0.0/28'), '10.0.0.15')).toBe(true);
  expect(cidrContains(parseCidr('10.0.0.0/28'), '10.0.0.16')).toBe(false);
  expect(cidrWithin(parseCidr('10.0.16.0/20'), parseCidr('10.0.0.0/16'))).toBe(true);
  expect(cidrWithin(parseCidr('10.0.0.0/15'), parseCidr('10.0.0.0/16'))).toBe(false);
  expect(isIPv4('10.0.0.256')).toBe(false);
  expect(() => parseCidr('10.0.0.0/33')).toThrow('not an IPv4 CIDR');
});

test('sameJSON ignores key order and undefined fields, not values or array order', async () => {
  const { sameJSON } = await import('./json.js');
  expect(sameJSON({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }, { a: { d: [1, { x: 1, y: 2 }] }, b: 1 })).toBe(true);
  expect(sameJSON({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  expect(sameJSON({ a: 1 }, { a: '1' })).toBe(false);
});
