// The `ip -batch` spelling of actions and their order.
import { renderActions, type Action } from './actions.js';

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
    { kind: 'address-add', address: { dev: 'eoi02aa00000001', cidr: '10.0.0.10/32' }, why: '' },
  ];
  const { lines, sysctls } = renderActions(actions);
  expect(lines).toEqual([
    'rule del priority 2100 from 10.0.16.5/32 lookup 10009',
    'link set dev eth9 down',
    'address flush dev eth9',
    'link set dev eth9 alias ""',
    'link set dev eth9 name ens5',
    'link add link eth1 name eoi02aa00000001 type ipvlan mode l2',
    'link set dev eth1 up',
    'address replace 10.0.0.10/32 dev eoi02aa00000001',
    'neighbour replace 169.254.1.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent',
    'route replace 10.0.16.1/32 dev eth1 scope link proto 229 table 10003',
    'route replace 0.0.0.0/0 via 10.0.16.1 dev eth1 proto 229 table 10003',
    'rule add priority 2100 from 10.0.16.5/32 lookup 10003 protocol 229',
    'neighbour replace proxy 10.0.16.5 dev eth1 protocol 229',
  ]);
  expect(sysctls).toEqual([{ path: ['net', 'ipv4', 'ip_forward'], value: '1' }]);
});

test('deletions name exactly what was observed', () => {
  const { lines } = renderActions([
    { kind: 'route-delete', route: { table: 254, dst: '10.0.16.5/32', dev: 'eopabc', gateway: '1.2.3.4' }, why: '' },
    { kind: 'proxy-delete', proxy: { dst: '10.0.16.5', dev: 'eth1' }, why: '' },
    { kind: 'link-delete', dev: 'eopabc', why: '' },
    { kind: 'address-delete', address: { dev: 'eoi1', cidr: '10.0.0.9/32' }, why: '' },
  ]);
  expect(lines).toEqual(['neighbour del proxy 10.0.16.5 dev eth1', 'route del 10.0.16.5/32 via 1.2.3.4 dev eopabc table 254', 'address del 10.0.0.9/32 dev eoi1', 'link del dev eopabc']);
});
