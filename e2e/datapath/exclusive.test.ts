// The exclusive-ENI datapath on the real kernel: the ENI NIC moves into the pod
// and comes back intact.
import { Datapath, ownedObjects } from '../../src/agent/datapath/index.js';
import { NODE_IP, PEER_IP, Topology, ourNetns, type Eni } from './topology.js';
import { EchoServers, request } from './traffic.js';

const IP_A = '10.0.16.5'; // shared, veth, on ENI 1
const IP_X = '10.0.32.9'; // exclusive, ENI 2

let topo: Topology;
let echo: EchoServers;
let dp: Datapath;
let eni1: Eni;
let eni2: Eni;

beforeEach(async () => {
  topo = await Topology.create();
  echo = new EchoServers();
  dp = new Datapath({ node: topo.node });
  [eni1, eni2] = topo.enis as [Eni, Eni];
});

afterEach(async () => {
  const prefix = topo.prefix;
  await echo.stopAll();
  await topo.teardown();
  expect(ourNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
});

async function linkOf(ns: string, dev: string): Promise<{ ifname: string; address: string; flags: string[]; ifalias?: string }> {
  const [link] = JSON.parse(await topo.ip(ns, ['-j', 'link', 'show', 'dev', dev])) as { ifname: string; address: string; flags: string[]; ifalias?: string }[];
  return link!;
}

test('an exclusive pod owns its ENI, reaches the VPC, the node and a shared pod, and the ENI returns intact on DEL', async () => {
  const a = await topo.addPod('a');
  const x = await topo.addPod('x');
  await topo.assign(eni1, IP_A);
  await topo.assign(eni2, IP_X);
  const attX = topo.attachment('uid-x', 'exclusive', eni2, IP_X);
  const sandboxX = { netns: x.path, ifName: 'eth0' };
  await dp.apply(topo.attachment('uid-a', 'veth', eni1, IP_A), { netns: a.path, ifName: 'eth0' });
  const result = await dp.apply(attX, sandboxX);

  expect(result).toMatchObject({
    interfaces: [{ name: expect.stringMatching(/^eox[0-9a-f]{12}$/) as unknown }, { name: 'eth0', mac: eni2.mac, sandbox: x.path }, { name: 'veth1', sandbox: x.path }],
    ips: [{ address: `${IP_X}/20`, gateway: eni2.gateway, interface: 1 }],
  });
  expect(result.routes).toEqual([
    { dst: '0.0.0.0/0', gw: eni2.gateway },
    { dst: `${NODE_IP}/32`, gw: '169.254.1.1' },
  ]);
  // The NIC itself is in the pod, under the pod's name, with the pod's address.
  expect(await topo.ip(topo.nodeName, ['-br', 'link'])).not.toContain(eni2.mac);
  expect((await linkOf(x.name, 'eth0')).address).toBe(eni2.mac);
  expect(await topo.ip(x.name, ['-4', '-br', 'address', 'show', 'eth0'])).toContain(`${IP_X}/20`);
  expect(await dp.apply(attX, sandboxX)).toEqual(result);

  for (const ns of [topo.peerName, topo.nodeName, a.name, x.name]) await echo.start(ns);
  for (const proto of ['tcp', 'udp'] as const) {
    expect(await request(x.name, proto, PEER_IP)).toMatchObject({ ok: true, from: IP_X });
    expect(await request(topo.peerName, proto, IP_X)).toMatchObject({ ok: true, from: PEER_IP });
    expect(await request(x.name, proto, NODE_IP)).toMatchObject({ ok: true, from: IP_X });
    expect(await request(topo.nodeName, proto, IP_X)).toMatchObject({ ok: true, from: NODE_IP });
    expect(await request(x.name, proto, IP_A)).toMatchObject({ ok: true, from: IP_X });
    expect(await request(a.name, proto, IP_X)).toMatchObject({ ok: true, from: IP_A });
  }
  expect(await topo.counter('spoofed')).toBe(0);
  expect(await dp.check(attX, sandboxX)).toEqual([]);

  // CHECK sees a broken pod side.
  await topo.ip(x.name, ['route', 'del', `${NODE_IP}/32`]);
  expect(await dp.check(attX, sandboxX)).toEqual([expect.stringContaining(`route ${NODE_IP}/32 via 169.254.1.1 dev veth1 missing`)]);

  await dp.remove({ podUID: 'uid-x', netns: x.path, ifName: 'eth0' }, attX);
  await dp.remove({ podUID: 'uid-x', netns: x.path, ifName: 'eth0' }, attX);
  const back = await linkOf(topo.nodeName, eni2.nic);
  expect(back.address).toBe(eni2.mac);
  expect(back.flags).not.toContain('UP');
  expect(back.ifalias ?? '').toBe('');
  expect(await topo.ip(topo.nodeName, ['-4', 'address', 'show', 'dev', eni2.nic])).toBe('');
  expect(await topo.ip(x.name, ['-br', 'link'])).not.toMatch(/eth0|veth1/);
  expect(ownedObjects(await dp.observe()).filter((o) => o.includes('eox'))).toEqual([]);

  // Ready for reuse: the same ENI now carries a shared pod.
  const b = await topo.addPod('b');
  await topo.assign(eni2, '10.0.32.10');
  await dp.apply(topo.attachment('uid-b', 'veth', eni2, '10.0.32.10'), { netns: b.path, ifName: 'eth0' });
  expect(await request(b.name, 'tcp', PEER_IP)).toMatchObject({ ok: true, from: '10.0.32.10' });
});

test('DEL without the attachment finds the ENI by its alias and returns it under its original name', async () => {
  const x = await topo.addPod('x');
  await topo.assign(eni2, IP_X);
  await dp.apply(topo.attachment('uid-x', 'exclusive', eni2, IP_X), { netns: x.path, ifName: 'net0' });
  expect((await linkOf(x.name, 'net0')).address).toBe(eni2.mac);
  await dp.remove({ podUID: 'uid-x', netns: x.path, ifName: 'net0' });
  expect((await linkOf(topo.nodeName, eni2.nic)).address).toBe(eni2.mac);
  expect(ownedObjects(await dp.observe())).toEqual([]);
});

test('when its name was taken meanwhile, the ENI comes back under its MAC-derived name', async () => {
  const x = await topo.addPod('x');
  await topo.assign(eni2, IP_X);
  const att = topo.attachment('uid-x', 'exclusive', eni2, IP_X);
  await dp.apply(att, { netns: x.path, ifName: 'eth0' });
  await topo.ip(topo.nodeName, ['link', 'add', eni2.nic, 'type', 'veth', 'peer', 'name', 'squatter']);
  await dp.remove({ podUID: 'uid-x', netns: x.path, ifName: 'eth0' }, att);
  expect((await linkOf(topo.nodeName, 'eni02e200000002')).address).toBe(eni2.mac);
});

test('an exclusive ENI that is missing everywhere is reported as ENINotFound, retryable', async () => {
  const x = await topo.addPod('x');
  const att = { ...topo.attachment('uid-x', 'exclusive', eni2, IP_X), mac: '02:00:00:00:99:99' };
  await expect(dp.apply(att, { netns: x.path, ifName: 'eth0' })).rejects.toMatchObject({ reason: 'ENINotFound', retryable: true });
  expect(ownedObjects(await dp.observe())).toEqual([]);
});
