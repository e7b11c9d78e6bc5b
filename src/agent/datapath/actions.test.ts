// The netlink steps of actions and their order.
import { renderSteps, type Action } from './actions.js';

test('deletions come first, links before what uses them, on-link routes before routes via them', () => {
  const actions: Action[] = [
    { kind: 'rule-add', rule: { priority: 2100, src: '10.0.16.5/32', table: 10003 }, why: '' },
    { kind: 'route-replace', route: { table: 10003, dst: '0.0.0.0/0', dev: 'eth1', gateway: '10.0.16.1' }, why: '' },
    { kind: 'route-replace', route: { table: 10003, dst: '10.0.16.1/32', dev: 'eth1', scope: 'link' }, why: '' },
    { kind: 'link-up', dev: 'eth1', why: '' },
    { kind: 'sysctl', sysctl: { path: ['net', 'ipv4', 'ip_forward'], value: '1' }, why: '' },
    { kind: 'rule-delete', rule: { priority: 2100, src: '10.0.16.5/32', table: 10009 }, why: '' },
    { kind: 'proxy-add', proxy: { dst: '10.0.16.5', dev: 'eth1' }, why: '' },
    { kind: 'ipvlan-add', dev: 'eoi02aa00000001', parent: 'eth1', why: '' },
    { kind: 'eni-release', dev: 'eth9', name: 'ens5', why: '' },
    { kind: 'neighbour-replace', neighbour: { dst: '169.254.1.1', dev: 'eth0', lladdr: '02:00:00:00:00:01' }, why: '' },
    { kind: 'address-add', address: { dev: 'eoi02aa00000001', cidr: '10.0.0.10/32', noPrefixRoute: true }, why: '' },
  ];
  expect(renderSteps(actions)).toEqual([
    { do: 'rule-delete', priority: 2100, src: '10.0.16.5/32', table: 10009 },
    { do: 'link-down', dev: 'eth9' },
    { do: 'address-flush', dev: 'eth9' },
    { do: 'link-set', dev: 'eth9', alias: '', rename: 'ens5' },
    { do: 'ipvlan-add', dev: 'eoi02aa00000001', parent: 'eth1' },
    { do: 'link-up', dev: 'eth1' },
    { do: 'address-replace', dev: 'eoi02aa00000001', cidr: '10.0.0.10/32', noPrefixRoute: true },
    { do: 'neighbour-replace', dst: '169.254.1.1', dev: 'eth0', lladdr: '02:00:00:00:00:01' },
    { do: 'route-replace', table: 10003, dst: '10.0.16.1/32', dev: 'eth1', scope: 'link', protocol: 229 },
    { do: 'route-replace', table: 10003, dst: '0.0.0.0/0', dev: 'eth1', gateway: '10.0.16.1', protocol: 229 },
    { do: 'rule-add', priority: 2100, src: '10.0.16.5/32', table: 10003, protocol: 229 },
    { do: 'proxy-replace', dst: '10.0.16.5', dev: 'eth1', protocol: 229 },
    { do: 'sysctl', path: ['net', 'ipv4', 'ip_forward'], value: '1' },
  ]);
});

test('deletions name exactly what was observed; an ENI keeping its name is not renamed', () => {
  expect(
    renderSteps([
      { kind: 'route-delete', route: { table: 254, dst: '10.0.16.5/32', dev: 'eopabc', gateway: '1.2.3.4' }, why: '' },
      { kind: 'proxy-delete', proxy: { dst: '10.0.16.5', dev: 'eth1' }, why: '' },
      { kind: 'link-delete', dev: 'eopabc', why: '' },
      { kind: 'address-delete', address: { dev: 'eoi1', cidr: '10.0.0.9/32' }, why: '' },
      { kind: 'eni-release', dev: 'eth3', name: 'eth3', why: '' },
    ]),
  ).toEqual([
    { do: 'proxy-delete', dst: '10.0.16.5', dev: 'eth1' },
    { do: 'route-delete', table: 254, dst: '10.0.16.5/32', dev: 'eopabc', gateway: '1.2.3.4' },
    { do: 'address-delete', dev: 'eoi1', cidr: '10.0.0.9/32' },
    { do: 'link-delete', dev: 'eopabc' },
    { do: 'link-down', dev: 'eth3' },
    { do: 'address-flush', dev: 'eth3' },
    { do: 'link-set', dev: 'eth3', alias: '' },
  ]);
});
