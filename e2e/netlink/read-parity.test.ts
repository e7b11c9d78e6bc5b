// The agent's read-back of a namespace, now netlink dumps in the eni-exec
// helper, against iproute2's reading of the same namespace: a node built by
// `ip` with every kind of object the datapaths own or look at (veths with
// peers here and elsewhere, aliases, a macvlan, addresses with and without a
// prefix route, routes in main and in ENI tables with gateways, on-link flags
// and scopes, rules with and without protocol, permanent and learned
// neighbours, proxy entries with a protocol, per-device settings).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { Snapshot } from '../../src/agent/netlink/model.js';
import { readNamespace } from '../../src/agent/netlink/kernel.js';
import { namedNetns } from '../../src/agent/netlink/netns.js';
import { stopExecHelper } from '../../src/agent/netlink/exec.js';
import { readWithIproute2 } from './iproute2-read.js';

const PREFIX = `eorp-${process.pid}-${randomBytes(3).toString('hex')}`;
const NODE = `${PREFIX}-node`;
const POD = `${PREFIX}-pod`;

function ip(ns: string, lines: string[]): void {
  execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  const stale = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => /^eorp-(\d+)-/.test(n) && !isAlive(Number(/^eorp-(\d+)-/.exec(n)![1]))) : [];
  for (const n of stale) execFileSync('ip', ['netns', 'del', n]);
  for (const ns of [NODE, POD]) execFileSync('ip', ['netns', 'add', ns]);
  ip(NODE, [
    'link set lo up',
    'link add eth0 address 02:00:00:00:00:10 type veth peer name vpc0',
    'link add eth1 address 02:e1:00:00:00:01 type veth peer name vpc1',
    `link add eop0123456789ab address 02:aa:00:00:00:01 type veth peer name eth0 address 02:bb:00:00:00:01 netns ${POD}`,
    'link set dev eop0123456789ab alias "eni-operator pod=u1 container=c1"',
    'link add link eth0 name mv0 type macvlan mode bridge',
    'link set eth0 up',
    'link set eth1 up',
    'link set vpc0 up',
    'link set eop0123456789ab up',
    'address add 10.0.0.10/24 dev eth0',
    'address add 10.0.0.11/32 dev eth1 noprefixroute',
    'address add 192.168.7.1/30 dev mv0 scope link',
    'route add default via 10.0.0.1 dev eth0',
    'route add 10.0.16.5/32 dev eop0123456789ab scope link proto 229',
    'route add 10.0.16.1/32 dev eth1 scope link proto 229 table 10003',
    'route add default via 10.0.16.1 dev eth1 proto 229 table 10003',
    'route add 172.16.0.0/12 via 192.168.0.1 dev eth1 onlink proto 229 table 10003',
    'route add blackhole 10.99.0.0/16 table 10004',
    'rule add priority 2000 to 10.0.16.5/32 lookup main protocol 229',
    'rule add priority 2100 from 10.0.16.5/32 lookup 10003 protocol 229',
    'rule add priority 3000 from 10.1.0.0/16 to 10.2.0.0/16 lookup 10004',
    'neighbour replace 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent',
    'neighbour replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud reachable',
    'neighbour replace proxy 10.0.16.5 dev eth1 protocol 229',
    'neighbour replace proxy 10.0.16.6 dev eth1',
  ]);
  execFileSync('ip', ['netns', 'exec', NODE, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.eth1.rp_filter=2', 'net.ipv4.conf.eth0.rp_filter=1']);
});

afterAll(async () => {
  await stopExecHelper();
  for (const ns of [NODE, POD]) execFileSync('ip', ['netns', 'del', ns]);
});

/** What may differ in spelling only: iproute2 prints lo's all-zero MAC, netlink reports none. */
function normalize(s: Snapshot): Snapshot {
  const sorted = <T>(xs: T[]): T[] => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    links: sorted(s.links.map((l) => ({ ...l, mac: l.mac === '00:00:00:00:00:00' ? '' : l.mac }))),
    addresses: sorted(s.addresses),
    routes: sorted(s.routes),
    rules: sorted(s.rules),
    // iproute2 hides entries without an address (NOARP states) unless asked: compare what both list.
    neighbours: sorted(s.neighbours.filter((n) => n.lladdr !== undefined)),
    proxies: sorted(s.proxies),
    netconf: sorted(s.netconf),
  };
}

/** JSON round trip: undefined fields drop out, as they do on the helper's wire. */
const plain = (s: Snapshot): Snapshot => JSON.parse(JSON.stringify(s)) as Snapshot;

test('the helper reads a node and a pod namespace exactly as iproute2 does', async () => {
  for (const ns of [NODE, POD]) {
    const [viaHelper, viaIp] = await Promise.all([readNamespace(namedNetns(ns)), readWithIproute2(ns)]);
    expect(normalize(plain(viaHelper))).toEqual(normalize(plain(viaIp)));
  }
  // The comparison saw what matters (a broken reader returning little would also "match" a broken oracle).
  const node = await readNamespace(namedNetns(NODE));
  expect(node.links.find((l) => l.name === 'eop0123456789ab')).toMatchObject({ kind: 'veth', linkElsewhere: true, alias: 'eni-operator pod=u1 container=c1', up: true });
  expect(node.links.find((l) => l.name === 'mv0')).toMatchObject({ kind: 'macvlan', linkName: 'eth0' });
  expect(node.routes.filter((r) => r.table === 10003).map((r) => [r.dst, r.onlink, r.protocol])).toEqual(
    expect.arrayContaining([
      ['10.0.16.1/32', false, 229],
      ['0.0.0.0/0', false, 229],
      ['172.16.0.0/12', true, 229],
    ]),
  );
  expect(node.rules.find((r) => r.priority === 3000)).toEqual({ priority: 3000, src: '10.1.0.0/16', dst: '10.2.0.0/16', table: 10004, protocol: 0 });
  expect(node.proxies).toEqual(expect.arrayContaining([{ dst: '10.0.16.5', dev: 'eth1', protocol: 229 }, { dst: '10.0.16.6', dev: 'eth1', protocol: 0 }]));
  expect(node.netconf.find((c) => c.dev === 'eth1')).toEqual({ dev: 'eth1', forwarding: true, rpFilter: 2 });
});
