// The veth + policy-routing datapath on the real kernel, in a throwaway node
// with two fake ENIs behind an anti-spoofing VPC router (see topology.ts).
import { Datapath, ownedObjects, type Snapshot } from '../../src/agent/datapath/index.js';
import { NODE_IP, PEER_IP, Topology, ourNetns } from './topology.js';
import { EchoServers, request } from './traffic.js';

const IP_A = '10.0.16.5'; // on ENI 1
const IP_B = '10.0.32.7'; // on ENI 2
const IP_C = '10.0.16.6'; // on ENI 1

let topo: Topology;
let echo: EchoServers;
let dp: Datapath;

beforeEach(async () => {
  topo = await Topology.create();
  echo = new EchoServers();
  dp = new Datapath({ node: topo.node });
});

afterEach(async () => {
  const prefix = topo.prefix;
  await echo.stopAll();
  await topo.teardown();
  expect(ourNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
});

/** The kernel state a pod's ADD produces, minus counters that change on their own. */
function stable(s: Snapshot): unknown {
  return {
    links: s.links.map((l) => [l.name, l.mac, l.kind, l.up, l.alias]).sort(),
    addresses: s.addresses.map((a) => `${a.dev} ${a.address}/${a.prefix}`).sort(),
    routes: s.routes.map((r) => JSON.stringify(r)).sort(),
    rules: s.rules.map((r) => JSON.stringify(r)).sort(),
    neighbours: s.neighbours.filter((n) => n.permanent).map((n) => JSON.stringify(n)).sort(),
    proxies: s.proxies.map((p) => JSON.stringify(p)).sort(),
  };
}

test('veth pods leave through their own ENI and reach the VPC, the node and each other over TCP and UDP', async () => {
  const [eni1, eni2] = topo.enis as [(typeof topo.enis)[0], (typeof topo.enis)[0]];
  const a = await topo.addPod('a');
  const b = await topo.addPod('b');
  await topo.assign(eni1, IP_A);
  await topo.assign(eni2, IP_B);
  const resA = await dp.apply(topo.attachment('uid-a', 'veth', eni1, IP_A), { netns: a.path, ifName: 'eth0', containerID: 'c-a' });
  await dp.apply(topo.attachment('uid-b', 'veth', eni2, IP_B), { netns: b.path, ifName: 'eth0' });

  expect(resA).toMatchObject({
    cniVersion: '1.0.0',
    interfaces: [{ name: expect.stringMatching(/^eop[0-9a-f]{12}$/) as unknown }, { name: 'eth0', sandbox: a.path }],
    ips: [{ address: `${IP_A}/32`, gateway: '169.254.1.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
  });
  // The MAC the result reports is the one the pod's interface has.
  expect(await topo.ip(a.name, ['link', 'show', 'eth0'])).toContain(resA.interfaces[1]!.mac);

  for (const ns of [topo.peerName, topo.nodeName, a.name, b.name]) await echo.start(ns);
  const eni2Before = await topo.counter('from_eni2');
  for (const proto of ['tcp', 'udp'] as const) {
    // The peer sees the pod's own address: no NAT, and the VPC accepted it on the right ENI.
    expect(await request(a.name, proto, PEER_IP)).toMatchObject({ ok: true, from: IP_A });
    expect(await request(b.name, proto, PEER_IP)).toMatchObject({ ok: true, from: IP_B });
    expect(await request(topo.peerName, proto, IP_A)).toMatchObject({ ok: true, from: PEER_IP });
    expect(await request(a.name, proto, NODE_IP)).toMatchObject({ ok: true, from: IP_A });
    expect(await request(topo.nodeName, proto, IP_B)).toMatchObject({ ok: true });
    expect(await request(a.name, proto, IP_B)).toMatchObject({ ok: true, from: IP_A });
    expect(await request(b.name, proto, IP_A)).toMatchObject({ ok: true, from: IP_B });
  }
  // B's packets entered the VPC through ENI 2, and nothing was dropped as spoofed.
  expect(await topo.counter('from_eni2')).toBeGreaterThan(eni2Before);
  expect(await topo.counter('spoofed')).toBe(0);

  expect(await dp.check(topo.attachment('uid-a', 'veth', eni1, IP_A), { netns: a.path, ifName: 'eth0' })).toEqual([]);
  expect(await dp.check(topo.attachment('uid-b', 'veth', eni2, IP_B), { netns: b.path, ifName: 'eth0' })).toEqual([]);
});

test('the fabric is strict: a pod IP sent out of the wrong ENI is dropped (negative control)', async () => {
  const [eni1, eni2] = topo.enis as [(typeof topo.enis)[0], (typeof topo.enis)[0]];
  const a = await topo.addPod('a');
  await topo.assign(eni1, IP_A);
  await dp.apply(topo.attachment('uid-a', 'veth', eni1, IP_A), { netns: a.path, ifName: 'eth0' });
  await echo.start(topo.peerName);
  expect(await request(a.name, 'tcp', PEER_IP)).toMatchObject({ ok: true });
  // Point the pod's rule at ENI 2's table: the VPC must drop what leaves through ENI 2.
  const table = (await topo.ip(topo.nodeName, ['-4', 'rule'])).match(new RegExp(`from ${IP_A} lookup (\\d+)`))![1]!;
  await topo.ip(topo.nodeName, ['rule', 'del', 'from', IP_A, 'lookup', table]);
  await dp.apply(topo.attachment('uid-c', 'veth', eni2, '10.0.32.8'), { netns: (await topo.addPod('c')).path, ifName: 'eth0' });
  const other = (await topo.ip(topo.nodeName, ['-4', 'rule'])).match(/from 10\.0\.32\.8 lookup (\d+)/)![1]!;
  await topo.ip(topo.nodeName, ['rule', 'add', 'from', IP_A, 'lookup', other, 'priority', '2100']);
  const spoofedBefore = await topo.counter('spoofed');
  expect(await request(a.name, 'udp', PEER_IP, 'lost', 700)).toMatchObject({ ok: false });
  expect(await topo.counter('spoofed')).toBeGreaterThan(spoofedBefore);
});

test('ADD twice converges to the same kernel state and result; CHECK reports deleted routes; DEL is idempotent', async () => {
  const [eni1] = topo.enis as [(typeof topo.enis)[0]];
  const a = await topo.addPod('a');
  const c = await topo.addPod('c');
  await topo.assign(eni1, IP_A);
  await topo.assign(eni1, IP_C);
  const attA = topo.attachment('uid-a', 'veth', eni1, IP_A, [{ dst: '192.168.0.0/16' }]);
  const attC = topo.attachment('uid-c', 'veth', eni1, IP_C);
  const sandboxA = { netns: a.path, ifName: 'eth0' };
  const first = await dp.apply(attA, sandboxA);
  await dp.apply(attC, { netns: c.path, ifName: 'eth0' });
  const nodeAfterFirst = stable(await dp.observe());
  const podAfterFirst = await topo.ip(a.name, ['-d', 'link', 'show', 'eth0']);
  const second = await dp.apply(attA, sandboxA);
  expect(second).toEqual(first);
  expect(stable(await dp.observe())).toEqual(nodeAfterFirst);
  // Same interface (same ifindex line), not a new pair.
  expect(await topo.ip(a.name, ['-d', 'link', 'show', 'eth0'])).toEqual(podAfterFirst);
  expect(first.routes).toContainEqual({ dst: '192.168.0.0/16', gw: '169.254.1.1' });

  // Drift on both sides is reported.
  const table = (await topo.ip(topo.nodeName, ['-4', 'rule'])).match(new RegExp(`from ${IP_A} lookup (\\d+)`))![1]!;
  await topo.ip(topo.nodeName, ['route', 'del', 'default', 'table', table]);
  await topo.ip(a.name, ['route', 'del', '192.168.0.0/16']);
  const problems = await dp.check(attA, sandboxA);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`route 0\\.0\\.0\\.0/0 via 10\\.0\\.16\\.1 dev eth1 table ${table} missing`)),
      expect.stringMatching(/route 192\.168\.0\.0\/16 via 169\.254\.1\.1 dev eth0 missing/),
    ]),
  );
  expect(problems).toHaveLength(2);
  // ADD again repairs both.
  await dp.apply(attA, sandboxA);
  expect(await dp.check(attA, sandboxA)).toEqual([]);

  // DEL with the attachment, again, without it, and of a pod never seen.
  await dp.remove({ podUID: 'uid-a', netns: a.path, ifName: 'eth0' }, attA);
  await dp.remove({ podUID: 'uid-a', netns: a.path, ifName: 'eth0' }, attA);
  await dp.remove({ podUID: 'uid-c', netns: c.path, ifName: 'eth0' });
  await dp.remove({ podUID: 'never-seen', netns: '/run/netns/does-not-exist', ifName: 'eth0' });
  expect(await topo.ip(a.name, ['-br', 'link'])).not.toContain('eth0');
  // Only the per-ENI table is left, for the repair to collect once no pod uses the ENI.
  const left = ownedObjects(await dp.observe());
  expect(left.length).toBeGreaterThan(0);
  expect(left.every((o) => o.startsWith('route ') && / table 1\d{4}$/.test(o))).toBe(true);
  await dp.repair([]);
  expect(ownedObjects(await dp.observe())).toEqual([]);
});

test('a new sandbox of the same pod replaces the old pair, and a late DEL of the old sandbox leaves it alone', async () => {
  const [eni1] = topo.enis as [(typeof topo.enis)[0]];
  const old = await topo.addPod('old');
  const fresh = await topo.addPod('new');
  await topo.assign(eni1, IP_A);
  const att = topo.attachment('uid-a', 'veth', eni1, IP_A);
  await dp.apply(att, { netns: old.path, ifName: 'eth0', containerID: 'sandbox-1' });
  await dp.apply(att, { netns: fresh.path, ifName: 'eth0', containerID: 'sandbox-2' });
  expect(await topo.ip(old.name, ['-br', 'link'])).not.toContain('eth0');
  await dp.remove({ podUID: 'uid-a', netns: old.path, ifName: 'eth0', containerID: 'sandbox-1' });
  expect(await dp.check(att, { netns: fresh.path, ifName: 'eth0' })).toEqual([]);
  await echo.start(topo.peerName);
  expect(await request(fresh.name, 'tcp', PEER_IP)).toMatchObject({ ok: true, from: IP_A });
});

test('concurrent ADDs and DELs of pods sharing an ENI all succeed and leave nothing behind', async () => {
  const [eni1] = topo.enis as [(typeof topo.enis)[0]];
  const pods = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => ({ i, ns: await topo.addPod(`p${i}`), att: topo.attachment(`uid-${i}`, 'veth', eni1, `10.0.16.${20 + i}`) })));
  for (const p of pods) await topo.assign(eni1, `10.0.16.${20 + p.i}`);
  await Promise.all(pods.map((p) => dp.apply(p.att, { netns: p.ns.path, ifName: 'eth0' })));
  for (const p of pods) expect(await dp.check(p.att, { netns: p.ns.path, ifName: 'eth0' })).toEqual([]);
  await echo.start(topo.peerName);
  const replies = await Promise.all(pods.map((p) => request(p.ns.name, 'udp', PEER_IP)));
  expect(replies.map((r) => (r.ok ? r.from : r.error))).toEqual(pods.map((p) => `10.0.16.${20 + p.i}`));
  await Promise.all(pods.map((p) => dp.remove({ podUID: p.att.podUID, netns: p.ns.path, ifName: 'eth0' }, p.att)));
  await dp.repair([]);
  expect(ownedObjects(await dp.observe())).toEqual([]);
});
