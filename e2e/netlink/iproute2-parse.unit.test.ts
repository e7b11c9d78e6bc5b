// Parsing of `ip -4 -N -d -json` output, on samples captured from iproute2 6.1.
import { parseAddresses, parseLinks, parseNetConf, parseNeighbours, parseProxies, parseRoutes, parseRules } from './iproute2-parse.js';

test('links: kind, admin state, peer in this or another namespace, alias, ipvlan mode', () => {
  const links = parseLinks([
    { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK'], address: '00:00:00:00:00:00' },
    { ifindex: 3, link: 'e1', ifname: 'eth1', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP', 'M-DOWN'], address: '02:AA:00:00:00:01', linkinfo: { info_kind: 'veth' }, ifalias: 'eni-operator exclusive pod=u1 orig=eth9' },
    { ifindex: 2, link_index: 2, ifname: 'eopabc', flags: ['BROADCAST', 'MULTICAST'], address: '02:00:00:00:00:01', link_netnsid: 0, linkinfo: { info_kind: 'veth' } },
    { ifindex: 7, link: 'eth1', ifname: 'eoi02aa00000001', flags: ['UP'], address: '02:aa:00:00:00:01', linkinfo: { info_kind: 'ipvlan', info_data: { mode: 'l2', flags: 'bridge' } } },
  ]);
  expect(links[0]).toMatchObject({ index: 1, name: 'lo', kind: undefined, up: false });
  expect(links[1]).toMatchObject({ name: 'eth1', mac: '02:aa:00:00:00:01', kind: 'veth', up: true, linkName: 'e1', linkElsewhere: false, alias: 'eni-operator exclusive pod=u1 orig=eth9' });
  expect(links[2]).toMatchObject({ name: 'eopabc', linkIndex: 2, linkElsewhere: true, up: false });
  expect(links[3]).toMatchObject({ kind: 'ipvlan', ipvlanMode: 'l2', linkName: 'eth1' });
});

test('addresses: IPv4 only, numeric or named scope', () => {
  expect(
    parseAddresses([
      { ifname: 'eth1', addr_info: [{ family: 'inet', local: '10.1.0.5', prefixlen: 24, scope: '0' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
    ]),
  ).toEqual([
    { dev: 'eth1', address: '10.1.0.5', prefix: 24, scope: 0 },
    { dev: 'lo', address: '127.0.0.1', prefix: 8, scope: 254 },
  ]);
});

test('routes: main table implied, default and host destinations as CIDRs, local type, onlink', () => {
  const routes = parseRoutes([
    { dst: 'default', gateway: '10.0.16.1', dev: 'eth1', table: '10004', flags: [] },
    { dst: '10.0.16.1', dev: 'eth1', table: '10004', scope: '253', flags: [] },
    { dst: '10.0.16.7', dev: 'eth1', protocol: '229', scope: '253', flags: [] },
    { dst: '10.0.17.0/24', gateway: '10.0.16.1', dev: 'eth1', flags: ['onlink'] },
    { type: '2', dst: '10.9.0.1', dev: 'e1', table: '255', protocol: '2', scope: '254', prefsrc: '10.9.0.1', flags: [] },
  ]);
  expect(routes[0]).toEqual({ table: 10004, dst: '0.0.0.0/0', gateway: '10.0.16.1', dev: 'eth1', scope: 0, protocol: 3, type: 1, onlink: false });
  expect(routes[1]).toMatchObject({ dst: '10.0.16.1/32', scope: 253 });
  expect(routes[2]).toMatchObject({ table: 254, dst: '10.0.16.7/32', protocol: 229 });
  expect(routes[3]).toMatchObject({ dst: '10.0.17.0/24', onlink: true });
  expect(routes[4]).toMatchObject({ table: 255, type: 2 });
});

test('rules: "all" means no selector, prefix lengths, numeric tables, protocols', () => {
  expect(
    parseRules([
      { priority: 0, src: 'all', table: '255' },
      { priority: 2000, src: 'all', dst: '10.0.16.5', table: '254', protocol: '229' },
      { priority: 2100, src: '10.0.16.0', srclen: 24, table: '10004', protocol: 'unspec' },
    ]),
  ).toEqual([
    { priority: 0, src: undefined, dst: undefined, table: 255, protocol: 0 },
    { priority: 2000, src: undefined, dst: '10.0.16.5/32', table: 254, protocol: 229 },
    { priority: 2100, src: '10.0.16.0/24', dst: undefined, table: 10004, protocol: 0 },
  ]);
});

test('neighbours, proxy entries and netconf', () => {
  expect(parseNeighbours([{ dst: '169.254.1.1', dev: 'eth0', lladdr: '02:00:00:00:00:09', state: ['PERMANENT'] }])).toEqual([
    { dst: '169.254.1.1', dev: 'eth0', lladdr: '02:00:00:00:00:09', permanent: true },
  ]);
  expect(parseProxies([{ dst: '10.0.16.7', dev: 'eth1', proxy: null, protocol: '229' }, { dst: '10.0.16.5', dev: 'eth1', proxy: null }])).toEqual([
    { dst: '10.0.16.7', dev: 'eth1', protocol: 229 },
    { dst: '10.0.16.5', dev: 'eth1', protocol: 0 },
  ]);
  expect(parseNetConf([{ family: 'inet', interface: 'all', forwarding: true, rp_filter: 'loose' }])).toEqual([{ dev: 'all', forwarding: true, rpFilter: 2 }]);
});

test('malformed output is an error that says what is missing', () => {
  expect(() => parseLinks([{ ifname: 'x' }])).toThrow(/ifindex/);
  expect(() => parseRoutes(['nope'])).toThrow(/expected an object/);
});
