// Read-back and drift repair on the real kernel: what the agent does after a
// restart or when something outside it changed the node's routing.
import { Datapath, ownedObjects, plan, vethHostName } from '../../src/agent/datapath/index.js';
import { PEER_IP, Topology, ourNetns, type Eni } from './topology.js';
import { EchoServers, request } from './traffic.js';

const IP_A = '10.0.16.5'; // broken on purpose
const IP_B = '10.0.32.7'; // healthy throughout

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

test('observe + plan restore a deleted rule and remove orphans, never touching a healthy pod or foreign objects', async () => {
  const [eni1, eni2] = topo.enis as [Eni, Eni];
  const a = await topo.addPod('a');
  const b = await topo.addPod('b');
  await topo.assign(eni1, IP_A);
  await topo.assign(eni2, IP_B);
  const attA = topo.attachment('uid-a', 'veth', eni1, IP_A);
  const attB = topo.attachment('uid-b', 'veth', eni2, IP_B);
  await dp.apply(attA, { netns: a.path, ifName: 'eth0' });
  await dp.apply(attB, { netns: b.path, ifName: 'eth0' });
  await echo.start(topo.peerName);
  expect(await request(a.name, 'tcp', PEER_IP)).toMatchObject({ ok: true, from: IP_A });

  // A healthy node needs nothing.
  expect(plan([attA, attB], await dp.observe())).toEqual({ actions: [], problems: [] });

  // Drift: A's source rule is gone, so its packets leave through the primary NIC and the VPC drops them.
  await topo.ip(topo.nodeName, ['rule', 'del', 'priority', '2100', 'from', `${IP_A}/32`]);
  expect(await request(a.name, 'udp', PEER_IP, 'lost', 700)).toMatchObject({ ok: false });
  // Leftovers of a pod that is gone: its veth, rule, proxy entry and a table of an unplugged ENI.
  const orphan = vethHostName('uid-gone');
  await topo.ip(topo.nodeName, ['link', 'add', orphan, 'type', 'veth', 'peer', 'name', 'orphanpeer']);
  await topo.ip(topo.nodeName, ['link', 'set', orphan, 'up']);
  await topo.ip(topo.nodeName, ['route', 'add', '10.0.16.99/32', 'dev', orphan, 'proto', '229']);
  await topo.ip(topo.nodeName, ['rule', 'add', 'from', '10.0.16.99/32', 'lookup', '10999', 'priority', '2100', 'protocol', '229']);
  await topo.ip(topo.nodeName, ['route', 'add', 'default', 'via', '10.0.0.1', 'dev', 'eth0', 'table', '10999']);
  await topo.ip(topo.nodeName, ['neigh', 'add', 'proxy', '10.0.16.99', 'dev', eni1.nic, 'protocol', '229']);
  // Not ours: a look-alike name of another kind, a rule at another priority, an unstamped proxy entry.
  await topo.ip(topo.nodeName, ['link', 'add', 'eop00000000000g', 'type', 'veth', 'peer', 'name', 'lookalikepeer']);
  await topo.ip(topo.nodeName, ['link', 'add', 'link', 'eth0', 'name', 'eoi0123456789ab', 'type', 'macvlan']);
  await topo.ip(topo.nodeName, ['rule', 'add', 'from', '10.0.16.98/32', 'lookup', 'main', 'priority', '3000']);
  await topo.ip(topo.nodeName, ['neigh', 'add', 'proxy', '10.0.16.97', 'dev', eni1.nic]);

  const before = await dp.observe();
  const p = plan([attA, attB], before);
  const lines = p.actions.map((x) => `${x.kind} ${JSON.stringify({ ...x, why: undefined, kind: undefined })}`);
  expect(p.problems).toEqual([]);
  expect(p.actions.map((x) => x.kind).sort()).toEqual(['link-delete', 'proxy-delete', 'route-delete', 'rule-add', 'rule-delete']);
  expect(p.actions.find((x) => x.kind === 'rule-add')).toMatchObject({ rule: { priority: 2100, src: `${IP_A}/32` } });
  expect(p.actions.find((x) => x.kind === 'link-delete')).toMatchObject({ dev: orphan });
  // Nothing mentions the healthy pod, its ENI table, or anything not ours.
  const healthyTable = before.rules.find((r) => r.src === `${IP_B}/32`)!.table!;
  for (const line of lines) {
    expect(line).not.toContain(IP_B);
    expect(line).not.toContain(vethHostName('uid-b'));
    expect(line).not.toContain(`"table":${healthyTable}`);
    expect(line).not.toMatch(/eop00000000000g|eoi0123456789ab|10\.0\.16\.98|10\.0\.16\.97/);
  }

  const executed = await dp.repair([attA, attB]);
  expect(executed.actions).toHaveLength(p.actions.length);
  expect(plan([attA, attB], await dp.observe())).toEqual({ actions: [], problems: [] });
  expect(await request(a.name, 'udp', PEER_IP)).toMatchObject({ ok: true, from: IP_A });
  expect(await request(b.name, 'tcp', PEER_IP)).toMatchObject({ ok: true, from: IP_B });
  const after = await dp.observe();
  expect(after.links.map((l) => l.name)).toEqual(expect.arrayContaining(['eop00000000000g', 'eoi0123456789ab', vethHostName('uid-b')]));
  expect(after.links.map((l) => l.name)).not.toContain(orphan);
  expect(after.rules.some((r) => r.priority === 3000)).toBe(true);
  expect(after.proxies.some((x) => x.dst === '10.0.16.97')).toBe(true);
});

test('a pod whose host veth vanished is reported for a new ADD, not half-repaired; a pod removed from the plan is cleaned up', async () => {
  const [eni1] = topo.enis as [Eni];
  const a = await topo.addPod('a');
  const b = await topo.addPod('b');
  const attA = topo.attachment('uid-a', 'veth', eni1, IP_A);
  const attB = topo.attachment('uid-b', 'veth', eni1, '10.0.16.8');
  await dp.apply(attA, { netns: a.path, ifName: 'eth0' });
  await dp.apply(attB, { netns: b.path, ifName: 'eth0' });
  await topo.ip(topo.nodeName, ['link', 'del', vethHostName('uid-a')]);
  const p = await dp.repair([attA]); // B left the plan
  expect(p.problems).toEqual([{ podUID: 'uid-a', problem: `link ${vethHostName('uid-a')} is missing` }]);
  const left = ownedObjects(await dp.observe());
  expect(left.some((o) => o.includes('10.0.16.8') || o.includes(vethHostName('uid-b')))).toBe(false);
  // A's rules and ENI table are kept for the ADD that will re-create its veth.
  expect(left).toEqual(expect.arrayContaining([expect.stringContaining(`from ${IP_A}/32`)]));
  await dp.remove({ podUID: 'uid-a', netns: a.path, ifName: 'eth0' }, attA);
  await dp.repair([]);
  expect(ownedObjects(await dp.observe())).toEqual([]);
});
