// What each datapath wants in the node and in the pod (pure), including the
// ipvlan datapath, whose kernel part only runs where ipvlan exists.
import type { Link, Snapshot } from '../netlink/model.js';
import { EMPTY_SNAPSHOT } from '../netlink/model.js';
import type { Step } from '../netlink/steps.js';
import { renderSteps, type Action } from './actions.js';
import { diff, SnapshotIndex, writeAll } from './intent.js';
import { exclusivePodIntent, ipvlanNodeIntent, ipvlanPodIntent, nodeAddresses, vethNodeIntent, vethPodIntent } from './intents.js';
import { ipvlanHostName, vethHostName } from './names.js';
import { cniResult } from './result.js';
import { toPodNetwork } from './types.js';

/** The steps as the `ip` commands they replace, the easiest form to read and compare; sysctls apart. */
function renderActions(actions: readonly Action[]): { lines: string[]; sysctls: { path: string[]; value: string }[] } {
  const steps = renderSteps(actions);
  const sysctls = steps.flatMap((s) => (s.do === 'sysctl' ? [{ path: s.path, value: s.value }] : []));
  return { lines: steps.filter((s) => s.do !== 'sysctl').map(spell), sysctls };
}

function spell(s: Step): string {
  const opt = (word: string, v: string | number | undefined): string => (v === undefined ? '' : ` ${word} ${v}`);
  switch (s.do) {
    case 'link-up':
      return `link set dev ${s.dev} up`;
    case 'link-delete':
      return `link del dev ${s.dev}`;
    case 'ipvlan-add':
      return `link add link ${s.parent} name ${s.dev} type ipvlan mode l2`;
    case 'address-replace':
      return `address replace ${s.cidr} dev ${s.dev}${s.noPrefixRoute ? ' noprefixroute' : ''}`;
    case 'neighbour-replace':
      return `neighbour replace ${s.dst} lladdr ${s.lladdr} dev ${s.dev} nud permanent`;
    case 'route-replace':
      return `route replace ${s.dst}${opt('via', s.gateway)} dev ${s.dev}${opt('scope', s.scope)}${s.onlink ? ' onlink' : ''} proto ${s.protocol} table ${s.table}`;
    case 'rule-add':
      return `rule add priority ${s.priority}${opt('from', s.src)}${opt('to', s.dst)} lookup ${s.table} protocol ${s.protocol}`;
    case 'proxy-replace':
      return `neighbour replace proxy ${s.dst} dev ${s.dev} protocol ${s.protocol}`;
    default:
      return JSON.stringify(s);
  }
}

function link(l: Partial<Link> & { name: string; index: number }): Link {
  return { mac: '', kind: undefined, up: true, linkName: undefined, linkIndex: undefined, linkElsewhere: false, alias: undefined, ipvlanMode: undefined, ...l };
}

const node: Snapshot = {
  ...EMPTY_SNAPSHOT,
  links: [link({ name: 'lo', index: 1 }), link({ name: 'eth0', index: 2, mac: '02:00:00:00:00:10' }), link({ name: 'eth1', index: 3, mac: '02:aa:00:00:00:01', up: false })],
  addresses: [
    { dev: 'lo', address: '127.0.0.1', prefix: 8, scope: 254 },
    { dev: 'eth0', address: '10.0.0.10', prefix: 24, scope: 0 },
  ],
  netconf: [{ dev: 'all', forwarding: false, rpFilter: 0 }],
};
const attachment = (mode: 'veth' | 'ipvlan' | 'exclusive') =>
  toPodNetwork({ podUID: 'u1', namespace: 'ns', name: 'p', mode, ip: '10.0.16.5/20', gateway: '10.0.16.1', eniID: 'eni-1', mac: '02:aa:00:00:00:01', routes: [{ dst: '172.16.0.0/12' }] });

test('node addresses are the global ones on links that are not the agent’s', () => {
  const host = ipvlanHostName('02:aa:00:00:00:01');
  const withSlave: Snapshot = {
    ...node,
    links: [...node.links, link({ name: host, index: 9, kind: 'ipvlan', linkName: 'eth1' })],
    addresses: [...node.addresses, { dev: host, address: '10.99.0.1', prefix: 32, scope: 0 }, { dev: 'eth0', address: '169.254.3.3', prefix: 16, scope: 253 }],
  };
  expect(nodeAddresses(withSlave)).toEqual(['10.0.0.10']);
});

test('veth on the node: host route, both rules, the ENI table, proxy ARP, ENI up with its settings', () => {
  const index = new SnapshotIndex({ ...node, links: [...node.links, link({ name: vethHostName('u1'), index: 9, kind: 'veth', up: false })] });
  const { lines, sysctls } = renderActions(diff(vethNodeIntent(attachment('veth'), index), index).actions);
  const host = vethHostName('u1');
  expect(lines).toEqual([
    `link set dev ${host} up`,
    'link set dev eth1 up',
    `route replace 10.0.16.5/32 dev ${host} scope link proto 229 table 254`,
    'route replace 10.0.16.1/32 dev eth1 scope link proto 229 table 10003',
    'route replace 0.0.0.0/0 via 10.0.16.1 dev eth1 proto 229 table 10003',
    'route replace 172.16.0.0/12 via 10.0.16.1 dev eth1 proto 229 table 10003',
    'rule add priority 2000 to 10.0.16.5/32 lookup 254 protocol 229',
    'rule add priority 2100 from 10.0.16.5/32 lookup 10003 protocol 229',
    'neighbour replace proxy 10.0.16.5 dev eth1 protocol 229',
  ]);
  expect(sysctls.map((s) => `${s.path.join('/')}=${s.value}`).sort()).toEqual(
    ['net/ipv4/conf/eth1/forwarding=1', 'net/ipv4/conf/eth1/rp_filter=2', 'net/ipv4/ip_forward=1', `net/ipv4/conf/${host}/forwarding=1`, 'net/ipv4/neigh/eth1/proxy_delay=0'].sort(),
  );
});

test('veth in the pod: /32, link-local gateway with a permanent neighbour, extra routes through it; the CNI result says so', () => {
  const intent = vethPodIntent(attachment('veth'), 'eth0', '02:00:00:00:00:99');
  expect(renderActions(writeAll(intent)).lines).toEqual([
    'link set dev lo up',
    'link set dev eth0 up',
    'address replace 10.0.16.5/32 dev eth0',
    'neighbour replace 169.254.1.1 lladdr 02:00:00:00:00:99 dev eth0 nud permanent',
    'route replace 169.254.1.1/32 dev eth0 scope link proto 229 table 254',
    'route replace 0.0.0.0/0 via 169.254.1.1 dev eth0 proto 229 table 254',
    'route replace 172.16.0.0/12 via 169.254.1.1 dev eth0 proto 229 table 254',
  ]);
  expect(cniResult([{ name: 'h', mac: 'm' }, { name: 'eth0', mac: 'n', sandbox: '/s' }], 1, '10.0.16.5/32', '169.254.1.1', intent)).toEqual({
    cniVersion: '1.0.0',
    interfaces: [{ name: 'h', mac: 'm' }, { name: 'eth0', mac: 'n', sandbox: '/s' }],
    ips: [{ address: '10.0.16.5/32', gateway: '169.254.1.1', interface: 1 }],
    routes: [
      { dst: '0.0.0.0/0', gw: '169.254.1.1' },
      { dst: '172.16.0.0/12', gw: '169.254.1.1' },
    ],
    dns: {},
  });
});

test('exclusive in the pod: subnet address on the ENI, default via the subnet gateway, node addresses via the veth', () => {
  const lines = renderActions(writeAll(exclusivePodIntent(attachment('exclusive'), 'eth0', '02:00:00:00:00:99', ['10.0.0.10']))).lines;
  expect(lines).toEqual([
    'link set dev lo up',
    'link set dev eth0 up',
    'link set dev veth1 up',
    'address replace 10.0.16.5/20 dev eth0',
    'neighbour replace 169.254.1.1 lladdr 02:00:00:00:00:99 dev veth1 nud permanent',
    'route replace 169.254.1.1/32 dev veth1 scope link proto 229 table 254',
    'route replace 0.0.0.0/0 via 10.0.16.1 dev eth0 proto 229 table 254',
    'route replace 172.16.0.0/12 via 10.0.16.1 dev eth0 proto 229 table 254',
    'route replace 10.0.0.10/32 via 169.254.1.1 dev veth1 proto 229 table 254',
  ]);
});

test('ipvlan on the node: one host slave per ENI carrying the node addresses, a host route per pod', () => {
  const index = new SnapshotIndex(node);
  const host = ipvlanHostName('02:aa:00:00:00:01');
  const { lines } = renderActions(diff(ipvlanNodeIntent(attachment('ipvlan'), index, ['10.0.0.10']), index).actions);
  expect(lines).toEqual([
    `link add link eth1 name ${host} type ipvlan mode l2`,
    `link set dev ${host} up`,
    'link set dev eth1 up',
    `address replace 10.0.0.10/32 dev ${host}`,
    `route replace 10.0.16.5/32 dev ${host} scope link proto 229 table 254`,
  ]);
  // A second pod on the same ENI adds only its route once the slave exists.
  const after = new SnapshotIndex({
    ...node,
    links: [...node.links.map((l) => (l.name === 'eth1' ? { ...l, up: true } : l)), link({ name: host, index: 9, kind: 'ipvlan', linkName: 'eth1', mac: '02:aa:00:00:00:01' })],
    addresses: [...node.addresses, { dev: host, address: '10.0.0.10', prefix: 32, scope: 0 }],
    netconf: [...node.netconf, { dev: 'eth1', forwarding: true, rpFilter: 2 }],
  });
  const second = toPodNetwork({ podUID: 'u2', namespace: 'ns', name: 'q', mode: 'ipvlan', ip: '10.0.16.6/20', gateway: '10.0.16.1', eniID: 'eni-1', mac: '02:aa:00:00:00:01' });
  expect(renderActions(diff(ipvlanNodeIntent(second, after, ['10.0.0.10']), after).actions).lines).toEqual([`route replace 10.0.16.6/32 dev ${host} scope link proto 229 table 254`]);
  // A host "slave" of the wrong kind is replaced.
  const wrong = new SnapshotIndex({ ...node, links: [...node.links, link({ name: host, index: 9, kind: 'macvlan', linkName: 'eth1' })] });
  expect(renderActions(diff(ipvlanNodeIntent(second, wrong, []), wrong).actions).lines.slice(0, 2)).toEqual([`link del dev ${host}`, `link add link eth1 name ${host} type ipvlan mode l2`]);
});

test('ipvlan in the pod: subnet address, default via the gateway, node addresses on-link; and a missing ENI is a problem, not an action', () => {
  expect(renderActions(writeAll(ipvlanPodIntent(attachment('ipvlan'), 'eth0', ['10.0.0.10']))).lines).toEqual([
    'link set dev lo up',
    'link set dev eth0 up',
    'address replace 10.0.16.5/20 dev eth0',
    'route replace 10.0.0.10/32 dev eth0 scope link proto 229 table 254',
    'route replace 0.0.0.0/0 via 10.0.16.1 dev eth0 proto 229 table 254',
    'route replace 172.16.0.0/12 via 10.0.16.1 dev eth0 proto 229 table 254',
  ]);
  const bare = new SnapshotIndex({ ...node, links: node.links.filter((l) => l.name !== 'eth1') });
  const d = diff(ipvlanNodeIntent(attachment('ipvlan'), bare, ['10.0.0.10']), bare);
  expect(d.actions).toEqual([]);
  expect(d.problems).toEqual(['ENI eni-1 (MAC 02:aa:00:00:00:01) is not in the node namespace']);
});

test('a route next hop outside the subnet is marked on-link', () => {
  const pn = toPodNetwork({ podUID: 'u', namespace: 'n', name: 'p', mode: 'exclusive', ip: '10.0.16.5/20', gateway: '10.0.16.1', eniID: 'e', mac: '02:aa:00:00:00:01', routes: [{ dst: '100.64.0.0/10', via: '192.0.2.1' }] });
  const routes = exclusivePodIntent(pn, 'eth0', '02:00:00:00:00:99', []).routes;
  expect(routes).toContainEqual({ table: 254, dst: '100.64.0.0/10', dev: 'eth0', gateway: '192.0.2.1', onlink: true });
});
