import { isCidr, parseResult, resultForVersion, ResultShapeError } from './result.js';

const FULL = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'enia1b2c3', mac: '02:00:00:00:00:01', mtu: 1500, sandbox: '' },
    { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/p', socketPath: '/x', pciID: '0000:00:05.0' },
  ],
  ips: [{ address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1', mtu: 1500, advmss: 1460, priority: 10, table: 100, scope: 0 }],
  dns: { nameservers: ['10.96.0.10'], domain: 'cluster.local', search: ['default.svc.cluster.local'], options: ['ndots:5'] },
};

test('a full result round-trips, extra keys dropped', () => {
  expect(parseResult({ ...FULL, extra: true, ips: [{ ...FULL.ips[0], bogus: 1 }] })).toEqual(FULL);
  expect(parseResult({})).toEqual({});
});

test('shape errors name the path', () => {
  const bad: [unknown, RegExp][] = [
    [[], /result: must be an object/],
    [{ interfaces: [{}] }, /interfaces\[0\]\.name/],
    [{ interfaces: [{ name: '' }] }, /interfaces\[0\]\.name/],
    [{ ips: [{ address: '10.0.0.5/33' }] }, /ips\[0\]\.address/],
    [{ ips: [{ address: '10.0.0.5/32', interface: 0 }] }, /index 0 but only 0/],
    [{ ips: [{ address: '10.0.0.5/32', gateway: 'gw' }] }, /ips\[0\]\.gateway/],
    [{ routes: [{ dst: 'default' }] }, /routes\[0\]\.dst/],
    [{ routes: [{ dst: '0.0.0.0/0', scope: 300 }] }, /routes\[0\]\.scope/],
    [{ routes: [{ dst: '0.0.0.0/0', mtu: -1 }] }, /routes\[0\]\.mtu/],
    [{ dns: { nameservers: 'x' } }, /dns\.nameservers/],
    [{ interfaces: {} }, /interfaces: must be a list/],
  ];
  for (const [v, msg] of bad) expect(() => parseResult(v)).toThrow(msg);
  expect(() => parseResult(null)).toThrow(ResultShapeError);
});

test('1.0.0 results lose the 1.1.0-only fields; 1.1.0 keeps them; cniVersion is stamped', () => {
  const v100 = resultForVersion(FULL, '1.0.0');
  expect(v100.cniVersion).toBe('1.0.0');
  expect(v100.interfaces).toEqual([
    { name: 'enia1b2c3', mac: '02:00:00:00:00:01', sandbox: '' },
    { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/p' },
  ]);
  expect(v100.routes).toEqual([{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
  expect(resultForVersion({ ...FULL, cniVersion: '9.9.9' }, '1.1.0')).toEqual(FULL);
});

test('CIDR notation', () => {
  for (const ok of ['10.0.0.5/32', '0.0.0.0/0', 'fd00::5/128', '::/0']) expect(isCidr(ok)).toBe(true);
  for (const bad of ['10.0.0.5', '10.0.0.5/', '10.0.0.5/33', 'fd00::/129', 'x/8', '10.0.0.5/8a', '10.0.0.5/-1']) expect(isCidr(bad)).toBe(false);
});
