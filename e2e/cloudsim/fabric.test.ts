// The VPC fabric on the real kernel (root): the emulator's world as network
// namespaces, NICs that follow attach/detach, a router that delivers only to
// assigned addresses and drops spoofed sources, and nothing left behind.
// Traffic stays inside the namespaces this test creates.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createProvider } from '../../src/cloud/factory.js';
import { Credentials } from '../../src/cloud/credentials.js';
import type { CloudProvider } from '../../src/cloud/types.js';
import { cleanupFabric, listNamespaces } from '../../src/cloudsim/fabric/cleanup.js';
import { findTools, mustRun } from '../../src/cloudsim/fabric/exec.js';
import type { Fabric, FabricInfo } from '../../src/cloudsim/fabric/fabric.js';
import { createEmulator, startFabric } from '../../src/cloudsim/index.js';
import type { Emulator } from '../../src/cloudsim/server.js';
import type { SimENI } from '../../src/cloudsim/world.js';
import { loadWorldSpec, parseWorldSpec } from '../../src/cloudsim/world-spec.js';
import { ProcessGroup } from '../harness/processes.js';
import { repoPath } from '../harness/paths.js';

const run = promisify(execFile);
const tools = findTools();

// ---- the world -------------------------------------------------------------------

const ALI = { provider: 'alibaba' as const, regionId: 'cn-fab' };
const TEN = { provider: 'tencent' as const, regionId: 'ap-fab' };

function worldDoc(extraInstances = 0): unknown {
  return {
    credentials: [
      { provider: 'alibaba', accessKeyId: 'LTAIfabric', accessKeySecret: 'fabric-secret-a' },
      { provider: 'tencent', accessKeyId: 'AKIDfabric', accessKeySecret: 'fabric-secret-t' },
    ],
    delays: { attachMs: 50, detachMs: 50, deleteMs: 20, taskMs: 20 },
    maxIPsPerDetachedENI: 10,
    regions: [
      {
        id: ALI.regionId,
        provider: 'alibaba',
        zones: ['cn-fab-i', 'cn-fab-j'],
        vpcs: [
          {
            id: 'vpc-fab-a',
            cidr: '10.240.0.0/16',
            subnets: [
              { id: 'vsw-fab-nodes-i', zone: 'cn-fab-i', cidr: '10.240.0.0/24' },
              { id: 'vsw-fab-nodes-j', zone: 'cn-fab-j', cidr: '10.240.1.0/24' },
              { id: 'vsw-fab-pods-i', zone: 'cn-fab-i', cidr: '10.240.16.0/24' },
            ],
          },
        ],
        securityGroups: [{ id: 'sg-fab-a', vpcId: 'vpc-fab-a' }],
        instanceTypes: [{ type: 'ecs.fab', maxENIs: 4, ipsPerENI: 10 }],
        instances: [
          { id: 'i-fab1', type: 'ecs.fab', zone: 'cn-fab-i', subnetId: 'vsw-fab-nodes-i' },
          { id: 'i-fab2', type: 'ecs.fab', zone: 'cn-fab-i', subnetId: 'vsw-fab-nodes-i' },
          { id: 'i-fab3', type: 'ecs.fab', zone: 'cn-fab-j', subnetId: 'vsw-fab-nodes-j' },
          ...Array.from({ length: extraInstances }, (_, i) => ({ id: `i-fabx${i}`, type: 'ecs.fab', zone: 'cn-fab-j', subnetId: 'vsw-fab-nodes-j' })),
        ],
      },
      {
        id: TEN.regionId,
        provider: 'tencent',
        zones: ['ap-fab-3'],
        vpcs: [{ id: 'vpc-fab-t', cidr: '10.241.0.0/16', subnets: [{ id: 'subnet-fab-3', zone: 'ap-fab-3', cidr: '10.241.0.0/24' }] }],
        securityGroups: [{ id: 'sg-fab-t', vpcId: 'vpc-fab-t' }],
        instanceTypes: [{ type: 'S.FAB', maxENIs: 2, ipsPerENI: 4 }],
        instances: [{ id: 'ins-fab1', type: 'S.FAB', zone: 'ap-fab-3', subnetId: 'subnet-fab-3' }],
      },
    ],
  };
}

// ---- kernel and traffic helpers ----------------------------------------------------

interface Link {
  ifname: string;
  address: string;
  operstate: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function ip(...args: string[]): Promise<string> {
  return (await run(tools.ip, args)).stdout;
}

async function links(netns: string): Promise<Link[]> {
  return JSON.parse(await ip('-n', netns, '-j', 'addr', 'show')) as Link[];
}

async function linkByMac(netns: string, mac: string): Promise<Link | undefined> {
  return (await links(netns)).find((l) => l.address === mac);
}

async function batch(netns: string, lines: string[]): Promise<void> {
  await mustRun(tools.ip, ['-n', netns, '-batch', '-'], lines.join('\n') + '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Small TCP/UDP endpoints, run with `ip netns exec` inside a node. */
const NET = `
const [mode, host, port, a, b] = process.argv.slice(1);
const net = require('node:net'), dgram = require('node:dgram');
if (mode === 'tcp-listen') {
  net.createServer((s) => s.end('hello ' + host)).listen(+port, host, () => console.log('ready'));
} else if (mode === 'tcp-connect') {
  const s = net.connect({ host, port: +port, timeout: +a, ...(b ? { localAddress: b } : {}) });
  s.on('data', (d) => { process.stdout.write(String(d)); process.exit(0); });
  s.on('timeout', () => { console.error('timeout'); process.exit(1); });
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
} else if (mode === 'udp-listen') {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => console.log(String(m) + ' ' + r.address));
  u.bind(+port, host, () => console.log('ready'));
} else if (mode === 'udp-send') {
  const u = dgram.createSocket('udp4');
  u.bind(0, a, () => u.send(b, +port, host, () => u.close()));
}
`;

const listeners: ChildProcess[] = [];

/** Starts a listener in a namespace; resolves when it listens. Its stdout lines are collected. */
async function listen(netns: string, mode: 'tcp-listen' | 'udp-listen', host: string, port: number): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn(tools.ip, ['netns', 'exec', netns, process.execPath, '-e', NET, mode, host, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  listeners.push(proc);
  const lines: string[] = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      lines.push(...d.toString().split('\n').filter(Boolean));
      if (lines[0] === 'ready') resolve();
    });
    proc.once('exit', (code) => reject(new Error(`listener ${mode} ${host}:${port} in ${netns} exited ${code}: ${stderr}`)));
  });
  return { proc, lines };
}

/** TCP from a node to host:port: the listener's greeting, or undefined if it never answers. */
async function tcp(netns: string, host: string, port: number, src?: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(tools.ip, ['netns', 'exec', netns, process.execPath, '-e', NET, 'tcp-connect', host, String(port), '1200', ...(src ? [src] : [])]);
    return stdout;
  } catch {
    return undefined;
  }
}

async function udpSend(netns: string, host: string, port: number, src: string, text: string): Promise<void> {
  await run(tools.ip, ['netns', 'exec', netns, process.execPath, '-e', NET, 'udp-send', host, String(port), src, text]);
}

/** Processes whose network namespace is one of these (compared by namespace inode). */
function processesIn(inodes: Set<number>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(statSync(`/proc/${entry}/ns/net`).ino)) pids.push(Number(entry));
    } catch {
      // exited, or a kernel thread
    }
  }
  return pids;
}

const owned = (prefix: string): string[] => listNamespaces().filter((n) => n.startsWith(`${prefix}-`));

async function rootLinkNames(): Promise<string[]> {
  return (JSON.parse(await ip('-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname);
}

const exited = (p: ChildProcess): Promise<void> => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r())));

// ---- the fabric under test ------------------------------------------------------------

const prefix = `ft${randomBytes(4).toString('hex')}`;
const errors: unknown[] = [];
const numbers: Record<string, string> = {};
let emulator: Emulator;
let fabric: Fabric;
let cloud: CloudProvider;
let host: string;
let N1: string, N2: string, N3: string, NT: string;

const primaryENI = (instanceId: string): SimENI => emulator.world.describeENIs(instanceId.startsWith('ins-') ? TEN : ALI, { instanceId, primary: true })[0]!;

beforeAll(async () => {
  emulator = createEmulator(parseWorldSpec(worldDoc()), { onError: (e) => errors.push(e) });
  host = `127.0.0.1:${(await emulator.listen(0, '127.0.0.1')).port}`;
  const t0 = performance.now();
  fabric = await startFabric(emulator, { prefix, onError: (e) => errors.push(e) });
  numbers['fabric start, 4 instances, 4 subnets'] = `${Math.round(performance.now() - t0)} ms`;
  [N1, N2, N3, NT] = ['i-fab1', 'i-fab2', 'i-fab3', 'ins-fab1'].map((id) => fabric.nodeNamespace(id)) as [string, string, string, string];
  cloud = await createProvider('alibaba', {
    region: ALI.regionId,
    credentials: new Credentials('LTAIfabric', 'fabric-secret-a'),
    endpoint: { host, insecure: true },
    rateLimit: { qps: 1000, burst: 1000 },
    poll: { initialMs: 10, maxMs: 50 },
  });
}, 30_000);

afterAll(async () => {
  for (const p of listeners) p.kill('SIGKILL');
  await emulator?.close();
  await fabric?.stop();
  await cleanupFabric(prefix); // even when a test failed before the last one
  process.stdout.write(`\nVPC fabric numbers:\n${Object.entries(numbers).map(([k, v]) => `  ${k.padEnd(58)} ${v}`).join('\n')}\n`);
});

afterEach(() => expect(errors).toEqual([]));

const PORT = 8080;
const PODS_GW = '10.240.16.253';
let eni: { id: string; mac: string; primaryIP: string };
let a1: string;
let a2: string;
const unassigned = '10.240.16.200';

test('start: a router with each subnet\'s gateway on its bridge, a namespace per instance with its primary NIC', async () => {
  const info = (await (await fetch(`http://${host}/_admin/fabric`)).json()) as FabricInfo;
  expect(info.routerNs).toBe(`${prefix}-r`);
  expect(info.nodes).toEqual({ 'i-fab1': `${prefix}-n-i-fab1`, 'i-fab2': `${prefix}-n-i-fab2`, 'i-fab3': `${prefix}-n-i-fab3`, 'ins-fab1': `${prefix}-n-ins-fab1` });
  expect(owned(prefix).sort()).toEqual([info.routerNs, ...Object.values(info.nodes)].sort());
  const routerAddresses = (await links(info.routerNs)).flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));
  // Alibaba's gateway is the third address from the end, Tencent's the first host.
  expect(routerAddresses).toEqual(expect.arrayContaining(['10.240.0.253/24', '10.240.1.253/24', '10.240.16.253/24', '10.241.0.1/24']));
  for (const [id, gateway] of [['i-fab1', '10.240.0.253'], ['i-fab3', '10.240.1.253'], ['ins-fab1', '10.241.0.1']] as const) {
    const primary = primaryENI(id);
    const nic = await linkByMac(info.nodes[id]!, primary.mac);
    expect(nic).toMatchObject({ ifname: 'eth0', operstate: 'UP' });
    expect(nic!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${primary.primaryIP}/24`]);
    const routes = JSON.parse(await ip('-n', info.nodes[id]!, '-j', 'route', 'show', 'default')) as { gateway: string; dev: string }[];
    expect(routes).toEqual([expect.objectContaining({ gateway, dev: 'eth0' })]);
  }
  // Links are born inside their namespaces: none of the fabric's appears in the root namespace.
  const fabricLinks = new Set([...Object.values(info.subnets).map((s) => s.bridge), ...Object.values(info.nics).map((n) => n.port)]);
  expect((await rootLinkNames()).filter((n) => fabricLinks.has(n) || n.startsWith(`${prefix}-`))).toEqual([]);
});

test('attaching an ENI through the cloud API makes a NIC with its MAC appear in that node, down and without addresses', async () => {
  eni = await cloud.createENI({ subnetId: 'vsw-fab-pods-i', securityGroupIds: ['sg-fab-a'], tags: { t: 'fabric' }, idempotencyKey: randomUUID() });
  expect(await linkByMac(N1, eni.mac)).toBeUndefined();
  const t0 = performance.now();
  const attach = cloud.attachENI(eni.id, 'i-fab1');
  const nic = await waitFor('the NIC in node 1', () => linkByMac(N1, eni.mac));
  numbers['AttachNetworkInterface call -> NIC in the node (attach delay 50 ms)'] = `${Math.round(performance.now() - t0)} ms`;
  await attach;
  expect(nic).toMatchObject({ ifname: 'eth1', operstate: 'DOWN', addr_info: [] });
  expect(nic.flags).not.toContain('UP');
  for (const other of [N2, N3, NT]) expect(await linkByMac(other, eni.mac)).toBeUndefined();
  expect(fabric.info().nics[eni.id]).toMatchObject({ instanceId: 'i-fab1', ifname: 'eth1', ips: [eni.primaryIP] });
});

test('an assigned address configured on the NIC is reachable from other nodes through the router, within and across subnets', async () => {
  [a1, a2] = (await cloud.assignIPs(eni.id, 2, randomUUID())) as [string, string];
  await fabric.idle();
  // What a node agent does with a secondary IP: address it and route its replies out of its ENI.
  await batch(N1, [
    'link set eth1 up',
    `addr add ${a1}/32 dev eth1`,
    `route add ${PODS_GW} dev eth1 scope link table 100`,
    `route add default via ${PODS_GW} dev eth1 table 100`,
    `rule add from ${a1} table 100 pref 100`,
  ]);
  await listen(N1, 'tcp-listen', a1, PORT);
  expect(await tcp(N3, a1, PORT)).toBe(`hello ${a1}`); // from the other zone's node subnet
  expect(await tcp(N2, a1, PORT)).toBe(`hello ${a1}`); // from node 1's own node subnet
  // Inside one subnet too, every packet goes through the router: node 2 resolves node 1 to the router's MAC.
  const p1 = primaryENI('i-fab1').primaryIP;
  await listen(N1, 'tcp-listen', p1, PORT);
  expect(await tcp(N2, p1, PORT)).toBe(`hello ${p1}`);
  const bridge = fabric.info().subnets['vsw-fab-nodes-i']!.bridge;
  const [bridgeLink] = JSON.parse(await ip('-n', fabric.routerNamespace, '-j', 'link', 'show', bridge)) as { address: string }[];
  const [neighbour] = JSON.parse(await ip('-n', N2, '-j', 'neigh', 'show', p1)) as { lladdr: string }[];
  expect(neighbour?.lladdr).toBe(bridgeLink!.address);
  // Another VPC shares the router, not its routes.
  expect(await tcp(NT, a1, PORT)).toBeUndefined();
}, 20_000);

test('an address the cloud did not assign is unreachable though configured on the NIC, until the World assigns it', async () => {
  expect(emulator.world.describeENIs(ALI, { subnetId: 'vsw-fab-pods-i' }).flatMap((e) => [e.primaryIP, ...e.secondaryIPs])).not.toContain(unassigned);
  await batch(N1, [`addr add ${unassigned}/32 dev eth1`, `rule add from ${unassigned} table 100 pref 101`]);
  await listen(N1, 'tcp-listen', unassigned, PORT);
  expect(await tcp(N3, unassigned, PORT)).toBeUndefined();
  // The same address, assigned through the World API, is reachable: the assignment is the only difference.
  emulator.world.assignIPs(ALI, eni.id, { ips: [unassigned] });
  await fabric.idle();
  expect(await tcp(N3, unassigned, PORT)).toBe(`hello ${unassigned}`);
  emulator.world.unassignIPs(ALI, eni.id, [unassigned]);
  await fabric.idle();
  expect(await tcp(N3, unassigned, PORT)).toBeUndefined();
}, 20_000);

test('the router drops packets whose source address is not assigned to the sending ENI, or whose MAC is not the ENI\'s', async () => {
  const p2 = primaryENI('i-fab2').primaryIP;
  const p3 = primaryENI('i-fab3').primaryIP;
  const rx = await listen(N3, 'udp-listen', p3, 9090);
  // Node 2's address (assigned, but to another ENI) on node 1's NIC.
  await batch(N1, [`addr add ${p2}/32 dev eth1`, `rule add from ${p2} table 100 pref 102`]);
  await udpSend(N1, p3, 9090, unassigned, 'unassigned-source');
  await udpSend(N1, p3, 9090, p2, 'other-enis-source');
  await batch(N1, ['link set eth1 address 02:00:5e:00:00:99']);
  await udpSend(N1, p3, 9090, a1, 'wrong-mac');
  await batch(N1, [`link set eth1 address ${eni.mac}`, `addr del ${p2}/32 dev eth1`]);
  await udpSend(N1, p3, 9090, a1, 'legitimate');
  await waitFor('the legitimate datagram', () => Promise.resolve(rx.lines.some((l) => l.startsWith('legitimate')) || undefined));
  await sleep(200); // the spoofed ones were sent first on the same path; give stragglers a chance all the same
  expect(rx.lines.slice(1)).toEqual([`legitimate ${a1}`]);
}, 20_000);

test('unassigning an address through the cloud API makes it unreachable', async () => {
  expect(await tcp(N3, a1, PORT)).toBe(`hello ${a1}`);
  await cloud.unassignIPs(eni.id, [a1]);
  await fabric.idle();
  expect(await tcp(N3, a1, PORT)).toBeUndefined();
  expect(fabric.info().nics[eni.id]!.ips).toEqual([eni.primaryIP, a2]);
  const neighbours = JSON.parse(await ip('-n', fabric.routerNamespace, '-j', 'neigh', 'show', a1)) as { state: string[] }[];
  expect(neighbours.filter((n) => n.state.includes('PERMANENT'))).toEqual([]);
}, 20_000);

test('detaching removes the NIC, even from a pod namespace it was moved to; re-attaching brings it to the new node', async () => {
  const pod = `${prefix}-pod1`; // carries the prefix, so a crash of this test is swept too
  await ip('netns', 'add', pod);
  await ip('-n', N1, 'link', 'set', 'eth1', 'netns', pod);
  await ip('-n', pod, 'link', 'set', 'eth1', 'name', 'eth0');
  expect(await linkByMac(pod, eni.mac)).toMatchObject({ ifname: 'eth0' });
  await cloud.detachENI(eni.id, 'i-fab1');
  await fabric.idle();
  expect(await linkByMac(pod, eni.mac)).toBeUndefined();
  expect(await linkByMac(N1, eni.mac)).toBeUndefined();
  expect(fabric.info().nics[eni.id]).toBeUndefined();
  await ip('netns', 'del', pod);
  // Through the World API this time, to node 2, where something already took the name eth1:
  // the NIC appears under a MAC-derived name, and the router delivers its addresses to it.
  await ip('-n', N2, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'taken1');
  emulator.world.attachENI(ALI, eni.id, 'i-fab2');
  const nic = await waitFor('the NIC in node 2', () => linkByMac(N2, eni.mac));
  await fabric.idle();
  expect(nic.ifname).toBe(`e${eni.mac.replaceAll(':', '')}`);
  expect(fabric.info().nics[eni.id]).toMatchObject({ instanceId: 'i-fab2', ifname: nic.ifname, ips: [eni.primaryIP, a2] });
  const [neighbour] = JSON.parse(await ip('-n', fabric.routerNamespace, '-j', 'neigh', 'show', a2)) as { lladdr: string; state: string[] }[];
  expect(neighbour).toMatchObject({ lladdr: eni.mac, state: ['PERMANENT'] });
  const attach = fabric.info().timings.attach!;
  numbers['attach event -> NIC in the kernel (mean / max)'] = `${(attach.totalMs / attach.count).toFixed(1)} / ${attach.maxMs} ms (${attach.count} attaches)`;
}, 20_000);

const cliBin = repoPath('dist', 'src', 'cmd', 'eni-operator.js');

test('the command: --fabric needs root and a valid prefix, with a clear error', async () => {
  const attempt = async (...args: string[]) => {
    try {
      await run(process.execPath, args);
      return { code: 0, stderr: '' };
    } catch (err) {
      return err as { code: number; stderr: string };
    }
  };
  // Load the command as root, then become nobody: the check, not file permissions, must refuse.
  const mainJs = repoPath('dist', 'src', 'cloudsim', 'main.js');
  const asNobody = await attempt('--input-type=module', '-e', `const m = await import(${JSON.stringify(mainJs)}); process.setgid(65534); process.setuid(65534); process.exitCode = await m.runCloudsim(['--fabric', 'sim']);`);
  expect(asNobody.code).toBe(2);
  expect(asNobody.stderr).toContain('--fabric needs root');
  const badPrefix = await attempt(cliBin, 'cloudsim', '--fabric', 'Bad-Prefix');
  expect(badPrefix.code).toBe(2);
  expect(badPrefix.stderr).toContain('1-12 lowercase letters or digits');
});

test('a crashed emulator\'s leftovers are swept by the next start with the same prefix; another prefix is untouched', async () => {
  const p2 = `fc${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'fabric-crash-'));
  const group = new ProcessGroup(`fabric-${p2}`, dir, true);
  const args = [cliBin, 'cloudsim', '--listen', '127.0.0.1:0', '--world', repoPath('config', 'cloudsim', 'world.yaml'), '--fabric', p2];
  const start = async (name: string): Promise<ChildProcess> => {
    const log = join(dir, `${name}.log`);
    const proc = group.start(name, process.execPath, args, log);
    await waitFor(`${name} to build its fabric`, () => Promise.resolve(readFileSync(log, 'utf8').includes('cloudsim fabric') || undefined), 20_000);
    return proc;
  };
  const ourRouter = statSync(`/run/netns/${fabric.routerNamespace}`).ino;
  const expected = 1 + loadWorldSpec(repoPath('config', 'cloudsim', 'world.yaml')).regions.reduce((n, r) => n + r.instances.length, 0); // router + nodes
  try {
    await ip('netns', 'add', `${p2}-n-ghost`); // left by some older run
    const first = await start('first');
    expect(owned(p2)).toHaveLength(expected); // the ghost is gone
    expect(owned(p2)).not.toContain(`${p2}-n-ghost`);
    const oldRouter = statSync(`/run/netns/${p2}-r`).ino;
    first.kill('SIGKILL');
    await group.exited('first');
    expect(owned(p2)).toHaveLength(expected); // a crash leaves everything behind...
    await start('second'); // ...and the next start sweeps it before building anew
    expect(owned(p2)).toHaveLength(expected);
    expect(statSync(`/run/netns/${p2}-r`).ino).not.toBe(oldRouter);
    numbers[`fabric start, default world (${expected - 1} instances), CLI`] = /built in (\d+ ms)/.exec(readFileSync(join(dir, 'second.log'), 'utf8'))?.[1] ?? '?';
    // The other emulator's fabric is untouched by both sweeps.
    expect(owned(prefix)).toHaveLength(5);
    expect(statSync(`/run/netns/${fabric.routerNamespace}`).ino).toBe(ourRouter);
    await group.stop();
    expect(await group.exited('second')).toBe(0);
    expect(owned(p2)).toEqual([]);
  } finally {
    await group.stop();
    await cleanupFabric(p2);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test('a larger world: start, a burst of attaches, and stop', async () => {
  const p3 = `fb${randomBytes(4).toString('hex')}`;
  const big = createEmulator(parseWorldSpec(worldDoc(40)));
  const t0 = performance.now();
  const bigFabric = await startFabric(big, { prefix: p3 });
  try {
    numbers['fabric start, 44 instances, 4 subnets'] = `${Math.round(performance.now() - t0)} ms`;
    expect(owned(p3)).toHaveLength(45);
    const primary = big.world.describeENIs(ALI, { instanceId: 'i-fabx39', primary: true })[0]!;
    expect(await linkByMac(bigFabric.nodeNamespace('i-fabx39'), primary.mac)).toMatchObject({ ifname: 'eth0', operstate: 'UP' });
    // Twenty ENIs attached at once, to twenty nodes: one batched round of kernel changes.
    const enis = Array.from({ length: 20 }, () => big.world.createENI(ALI, { subnetId: 'vsw-fab-nodes-j', securityGroupIds: ['sg-fab-a'], secondaryIPCount: 4 }));
    let attached = 0;
    const allAttached = new Promise<void>((resolve) => big.world.on('attached', () => ++attached === enis.length && resolve()));
    const t1 = performance.now();
    enis.forEach((e, i) => big.world.attachENI(ALI, e.id, `i-fabx${i}`));
    await allAttached;
    await bigFabric.idle();
    numbers['20 ENIs attached at once (attach delay 50 ms) -> all 20 NICs'] = `${Math.round(performance.now() - t1)} ms`;
    for (const [i, e] of enis.entries()) expect(await linkByMac(bigFabric.nodeNamespace(`i-fabx${i}`), e.mac)).toMatchObject({ ifname: 'eth1' });
  } finally {
    const t2 = performance.now();
    await bigFabric.stop();
    numbers['fabric stop, 44 instances + 20 ENIs'] = `${Math.round(performance.now() - t2)} ms`;
  }
  expect(owned(p3)).toEqual([]);
}, 60_000);

test('stop removes every namespace, link and process of the fabric', async () => {
  const info = fabric.info();
  const inodes = new Set(owned(prefix).map((n) => statSync(`/run/netns/${n}`).ino));
  expect(inodes.size).toBe(5);
  const fabricLinks = new Set([...Object.values(info.subnets).map((s) => s.bridge), ...Object.values(info.nics).map((n) => n.port)]);
  expect(processesIn(inodes).length).toBeGreaterThan(0); // the listeners this test started in the nodes
  await emulator.close();
  await fabric.stop();
  expect(fabric.info().state).toBe('stopped');
  expect(owned(prefix)).toEqual([]);
  expect((await rootLinkNames()).filter((n) => fabricLinks.has(n) || n.startsWith(`${prefix}-`))).toEqual([]);
  await Promise.all(listeners.map(exited));
  expect(listeners.every((p) => p.signalCode === 'SIGKILL')).toBe(true);
  expect(processesIn(inodes)).toEqual([]);
});
