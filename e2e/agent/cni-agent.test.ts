// The CNI contract against a REAL agent on the VPC fabric: cnitool and the
// plugin (exec'd as a runtime execs it) talk to `eni-operator agent` serving a
// fabric node whose NodeNetwork the controller planned. No fake handler: the
// results come from the kernel, CHECK reads the kernel, and the node namespace
// is compared before and after to prove what a request did (or did not) change.
// Last, a NetworkMode asking for ipvlan on this kernel (no ipvlan) fails
// clearly: capabilities, attachment status, the kubelet's Event, nothing left.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import type { Attachment, AttachmentStatus, NodeNetwork } from '../../src/api/nodenetwork.js';
import { Resources } from '../harness/cluster.js';
import { createNodes } from '../harness/scenario.js';
import { CniWorld, sweepStaleLeftovers, type Exec } from '../cni/kit.js';
import { errorSchema, resultSchema } from '../cni/result-schema.js';
import { schemaProblems } from '../cni/validate.js';
import { AgentCluster, eventually, sleep, type SimNode } from './kit.js';

const exec = promisify(execFile);
const cr = new Resources('admin');

let veth: AgentCluster | undefined;
let ipv: AgentCluster | undefined;
let world: CniWorld;
/** A node with an agent and no kubelet: the test is its runtime. */
let node: SimNode;

beforeAll(async () => {
  await sweepStaleLeftovers();
  world = new CniWorld();
});

afterAll(async () => {
  await world?.cleanup();
  expect(await world.namespacesLeft()).toEqual([]);
});

/** A Node of the cluster's NetworkMode with its agent running on the instance's fabric namespace, and no kubelet. */
async function nodeWithoutKubelet(c: AgentCluster, instance: string): Promise<SimNode> {
  const name = `${c.scenario}-1`;
  await createNodes(c.scenario, [{ name, instance }]);
  const primary = c.sim.world.describeENIs({ provider: 'alibaba', regionId: 'cn-hangzhou' }, { instanceId: instance, primary: true })[0]!;
  const dir = join(c.dir, name);
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'kubelet.log'), 'no kubelet on this node: the test is its runtime\n'); // AgentCluster.logs reads it
  const n: SimNode = { name, instance, netns: c.fabric.nodeNamespace(instance), primaryIP: primary.primaryIP, dir, socket: join(dir, 'run', 'agent.sock'), podPrefix: `${c.scenario}none`, agentRuns: 0 };
  c.nodes.push(n);
  await c.startAgent(n);
  return n;
}

const withLogs =
  (c: AgentCluster | undefined) =>
  (err: Error): never => {
    throw new Error(`${err.message}\n${c?.logs() ?? ''}`);
  };

async function nodeNetwork(name: string): Promise<NodeNetwork | undefined> {
  return cr.get<NodeNetwork>('nodenetworks', name).catch(() => undefined);
}

async function plannedAttachment(nodeName: string, podUID: string): Promise<Attachment> {
  return eventually(`an attachment for ${podUID} in NodeNetwork ${nodeName}`, async () => (await nodeNetwork(nodeName))?.spec.attachments?.find((a) => a.podUID === podUID), 60_000, 200);
}

async function attachmentStatus(nodeName: string, podUID: string): Promise<AttachmentStatus | undefined> {
  return (await nodeNetwork(nodeName))?.status?.attachments?.find((a) => a.podUID === podUID);
}

async function ipJSON<T>(netns: string, args: string[]): Promise<T[]> {
  const { stdout } = await exec('ip', ['-n', netns, '-j', ...args]);
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as T[]);
}

type Obj = Record<string, unknown>;

/**
 * The node namespace as `ip -j` shows it, one sorted JSON line per object.
 * Address lifetimes and the state of learned (non-permanent) neighbours change
 * on their own, so they are left out; everything else must stay exactly.
 */
async function snapshot(netns: string): Promise<Record<'link' | 'addr' | 'route' | 'rule' | 'neigh' | 'proxy', string[]>> {
  const [link, addr, route, route6, rule, neigh, proxy] = await Promise.all([
    ipJSON<Obj>(netns, ['link', 'show']),
    ipJSON<Obj & { addr_info?: Obj[] }>(netns, ['addr', 'show']),
    ipJSON<Obj>(netns, ['route', 'show', 'table', 'all']),
    ipJSON<Obj>(netns, ['-6', 'route', 'show', 'table', 'all']),
    ipJSON<Obj>(netns, ['rule', 'show']),
    ipJSON<Obj & { state?: string[] }>(netns, ['neigh', 'show']),
    ipJSON<Obj>(netns, ['neigh', 'show', 'proxy']),
  ]);
  const lines = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
  // IPv6 link-local addresses are the kernel's, added (and their DAD finished)
  // some time after a link comes up: not ours, and not stable between two reads.
  const linkLocal = (x: Obj) => typeof x.local === 'string' ? x.local.startsWith('fe80:') : typeof x.dst === 'string' && x.dst.startsWith('fe80:');
  return {
    link: lines(link),
    addr: lines(addr.map((a) => ({ ...a, addr_info: (a.addr_info ?? []).filter((i) => !linkLocal(i)).map(({ valid_life_time: _v, preferred_life_time: _p, ...rest }) => rest) }))),
    route: lines([...route, ...route6.filter((r) => !linkLocal(r))]),
    rule: lines(rule),
    neigh: lines(neigh.map(({ state, ...n }) => (state?.some((s) => s === 'PERMANENT' || s === 'NOARP') ? { ...n, state } : n))),
    proxy: lines(proxy),
  };
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Lines of `after` that are not in `before`, per kind. */
function added(before: Snapshot, after: Snapshot): string[] {
  return (Object.keys(after) as (keyof Snapshot)[]).flatMap((k) => after[k].filter((l) => !before[k].includes(l)).map((l) => `${k} ${l}`));
}

const linkNames = (s: Snapshot) => s.link.map((l) => (JSON.parse(l) as { ifname: string }).ifname);

/** Waits until the namespace holds still across a repair period (the agent repairs every 2 s here). */
async function settled(netns: string): Promise<Snapshot> {
  let last = await snapshot(netns);
  return eventually(`${netns} to hold still`, async () => {
    await sleep(2500);
    const now = await snapshot(netns);
    const same = JSON.stringify(now) === JSON.stringify(last);
    last = now;
    return same ? now : undefined;
  }, 30_000, 0);
}

/** Every kernel object the agent would own (README of the datapath): links eop/eox/eoi, ipvlan links, rules 2000/2100, its tables and protocol. */
async function agentObjects(netns: string): Promise<string[]> {
  const s = await snapshot(netns);
  const out: string[] = [];
  for (const l of s.link) {
    const link = JSON.parse(l) as { ifname: string; linkinfo?: { info_kind?: string } };
    if (/^eo[pxi][0-9a-f]{12}$/.test(link.ifname) || link.linkinfo?.info_kind === 'ipvlan') out.push(`link ${link.ifname}`);
  }
  for (const r of s.rule) if (/"priority":2[01]00\b|"protocol":"?229"?/.test(r)) out.push(`rule ${r}`);
  for (const r of [...s.route, ...s.proxy]) {
    const table = /"table":"?(\d+)"?/.exec(r)?.[1];
    if (/"protocol":"?229"?/.test(r) || (table !== undefined && Number(table) >= 10000)) out.push(`route/proxy ${r}`);
  }
  return out;
}

/** The container ID cnitool derives from the namespace path (cnitool/cmd/root.go): sha512, first 10 bytes. */
function cnitoolContainerID(netnsPath: string): string {
  return `cnitool-${createHash('sha512').update(netnsPath).digest('hex').slice(0, 20)}`;
}

const podArgs = (pod: k8s.V1Pod) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.metadata!.namespace!};K8S_POD_NAME=${pod.metadata!.name!};K8S_POD_UID=${pod.metadata!.uid!}`;

function cniError(out: Exec): { code: number; msg: string } {
  expect(out.code).not.toBe(0);
  const e = JSON.parse(out.stdout) as unknown;
  expect(schemaProblems(errorSchema, e)).toEqual([]);
  return e as { code: number; msg: string };
}

interface AddResult {
  cniVersion: string;
  interfaces: { name: string; mac: string; sandbox?: string }[];
  ips: { address: string; gateway: string; interface: number }[];
  routes: { dst: string; gw?: string }[];
}

// The two clusters run one after the other: their controllers would share one leader Lease.
describe('cnitool and eni-cni against the real agent (veth datapath)', () => {
  beforeAll(async () => {
    veth = await AgentCluster.start({ scenario: 'agcni', prefix: 'agcni', instances: [] });
    node = await nodeWithoutKubelet(veth, 'i-bp1simnode000000001');
  }, 120_000);

  afterAll(async () => {
    // No kubelet finalises this node's pods: remove them outright, then the cluster.
    await veth?.core.deleteCollectionNamespacedPod({ namespace: veth.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await veth?.stop();
  }, 120_000);

  test('ADD (twice, same result), CHECK (healthy, then broken: 102), DEL (twice, and of the unknown); the node keeps nothing of the pod', async () => {
    const pod = await veth!.createPod('cni-a', node);
    const uid = pod.metadata!.uid!;
    const att = await plannedAttachment(node.name, uid).catch(withLogs(veth));
    const podIP = att.ip.split('/')[0]!;
    // The controller plans an IP once the ENI is attached; the fabric hot-plugs its NIC at the same time.
    await eventually(`ENI ${att.mac} in ${node.netns}`, async () => ((await ipJSON<{ address?: string }>(node.netns, ['link', 'show'])).some((l) => l.address === att.mac) ? true : undefined), 30_000, 200);
    const before = await settled(node.netns);
    // Planned is not wired: until the runtime's ADD, the node holds nothing for the pod.
    const naming = (s: Snapshot) => (Object.keys(s) as (keyof Snapshot)[]).flatMap((k) => s[k].filter((l) => l.includes(`"${podIP}"`) || l.includes(`"${podIP}/32"`)).map((l) => `${k} ${l}`));
    expect(naming(before)).toEqual([]);
    expect(await agentObjects(node.netns)).toEqual([]);

    const net = world.writeConflist('1.0.0', { agentSocket: node.socket, timeoutMs: 30_000 });
    const netns = await world.addNamespace();
    const env = { CNI_ARGS: podArgs(pod) };
    const t0 = performance.now();
    const add = await world.cnitool(['add', net, netns], env);
    const addMs = performance.now() - t0;
    expect(add).toMatchObject({ code: 0, stderr: '' });
    const result = JSON.parse(add.stdout) as AddResult;
    expect(schemaProblems(resultSchema('1.0.0'), result)).toEqual([]);
    expect(result.ips).toEqual([{ address: `${podIP}/32`, gateway: '169.254.1.1', interface: 1 }]);
    expect(result.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: netns });

    // The result describes the kernel: the pod's eth0 has the planned address and the reported MAC.
    const nsName = netns.split('/').pop()!;
    const podLinks = await ipJSON<{ ifname: string; address: string; addr_info?: { family: string; local: string; prefixlen: number }[] }>(nsName, ['addr', 'show', 'dev', 'eth0']);
    expect(podLinks[0]).toMatchObject({ ifname: 'eth0', address: result.interfaces[1]!.mac });
    expect(podLinks[0]!.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${podIP}/32`]);
    const wired = await snapshot(node.netns);
    const newLinks = linkNames(wired).filter((n) => !linkNames(before).includes(n));
    expect(newLinks).toEqual([expect.stringMatching(/^eop[0-9a-f]{12}$/)]); // the host end of the pair
    expect(naming(wired).length).toBeGreaterThanOrEqual(3); // host route, rules, proxy entry

    const again = await world.cnitool(['add', net, netns], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(result);
    expect(await snapshot(node.netns)).toEqual(wired); // converged: nothing new the second time
    await eventually('attachment Ready in NodeNetwork status', async () => ((await attachmentStatus(node.name, uid))?.state === 'Ready' ? true : undefined), 15_000, 200);

    // CHECK through cnitool (libcni hands the cached result over as prevResult).
    expect(await world.cnitool(['check', net, netns], env)).toMatchObject({ code: 0, stdout: '' });
    // Break the pod: its default route goes. cnitool prints no code, so exec the plugin as the runtime would.
    await exec('ip', ['-n', nsName, 'route', 'del', 'default']);
    const broken = await world.cnitool(['check', net, netns], env);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain('0.0.0.0/0');
    const conf = { ...world.pluginConfig('1.0.0', { agentSocket: node.socket, timeoutMs: 30_000 }), name: net, prevResult: result };
    const cniEnv = { CNI_CONTAINERID: cnitoolContainerID(netns), CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: podArgs(pod) };
    const check = cniError(await world.plugin({ ...cniEnv, CNI_COMMAND: 'CHECK' }, JSON.stringify(conf)));
    expect(check.code).toBe(102);
    expect(check.msg).toContain('0.0.0.0/0');

    // DEL, DEL again, and DEL of a container the agent never saw (no pod args, a fresh namespace).
    expect(await world.cnitool(['del', net, netns], env)).toMatchObject({ code: 0, stdout: '' });
    expect(await world.cnitool(['del', net, netns], env)).toMatchObject({ code: 0, stdout: '' });
    const never = await world.addNamespace();
    expect(await world.cnitool(['del', net, never])).toMatchObject({ code: 0, stdout: '' });
    expect((await world.plugin({ ...cniEnv, CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'never-added-1', CNI_NETNS: never, CNI_ARGS: 'K8S_POD_NAMESPACE=agcni-pods;K8S_POD_NAME=ghost' }, JSON.stringify(conf))).code).toBe(0);

    // Nothing of the pod is left: not its link, not a route, rule or proxy entry naming its IP, now
    // and after the agent's next repairs (the pod is still planned: the plan alone must not re-wire it).
    const podObjects = (s: Snapshot) => [...naming(s), ...linkNames(s).filter((n) => newLinks.includes(n))];
    expect(podObjects(await snapshot(node.netns))).toEqual([]);
    const later = await settled(node.netns);
    expect(podObjects(later)).toEqual([]);
    // It was the node's only wired pod: the ENI's routing table goes too, and the agent owns nothing here.
    expect(await agentObjects(node.netns)).toEqual([]);
    expect(await ipJSON(nsName, ['link', 'show', 'dev', 'eth0']).catch(() => [])).toEqual([]);
    await eventually('attachment Released in NodeNetwork status', async () => ((await attachmentStatus(node.name, uid))?.state === 'Released' ? true : undefined), 15_000, 200);
    process.stdout.write(`cnitool ADD through the real agent: ${addMs.toFixed(0)} ms\n`);
  }, 120_000);

  test('an agent killed after an ADD and a DEL it had not yet reported reports both when it starts again, and keeps the added pod wired', async () => {
    const net = world.writeConflist('1.0.0', { agentSocket: node.socket, timeoutMs: 30_000 });
    const wire = async (name: string) => {
      const pod = await veth!.createPod(name, node);
      const att = await plannedAttachment(node.name, pod.metadata!.uid!).catch(withLogs(veth));
      await eventually(`ENI ${att.mac} in ${node.netns}`, async () => ((await ipJSON<{ address?: string }>(node.netns, ['link', 'show'])).some((l) => l.address === att.mac) ? true : undefined), 30_000, 200);
      const netns = await world.addNamespace();
      const env = { CNI_ARGS: podArgs(pod) };
      expect(await world.cnitool(['add', net, netns], env)).toMatchObject({ code: 0, stderr: '' });
      return { uid: pod.metadata!.uid!, ip: att.ip.split('/')[0]!, netns, env };
    };
    const gone = await wire('cni-gone');
    await eventually('the first pod Ready in NodeNetwork status', async () => ((await attachmentStatus(node.name, gone.uid))?.state === 'Ready' ? true : undefined), 15_000, 200);

    // A run that holds its status writes back, as one killed within its 20 ms coalescing window does.
    await veth!.killAgent(node);
    await veth!.startAgent(node, { args: ['--status-coalesce', '1h'] });
    const kept = await wire('cni-kept');
    expect(await world.cnitool(['del', net, gone.netns], gone.env)).toMatchObject({ code: 0, stdout: '' });
    await sleep(1000);
    expect(await attachmentStatus(node.name, kept.uid)).toBeUndefined();
    expect((await attachmentStatus(node.name, gone.uid))?.state).toBe('Ready');
    await veth!.killAgent(node);

    // The container map was written as things happened: the next run reports them.
    await veth!.startAgent(node);
    await eventually(
      'the added pod Ready and the deleted one Released (or already dropped from the plan)',
      async () => {
        const nn = await nodeNetwork(node.name);
        const state = (uid: string) => nn?.status?.attachments?.find((a) => a.podUID === uid)?.state;
        const goneSettled = state(gone.uid) === 'Released' || !nn?.spec.attachments?.some((a) => a.podUID === gone.uid);
        return state(kept.uid) === 'Ready' && goneSettled ? true : undefined;
      },
      15_000,
      200,
    ).catch(withLogs(veth));
    // The start-up repair kept the added pod's objects and did not put the deleted pod's back.
    const names = (s: Snapshot, ip: string) => (Object.keys(s) as (keyof Snapshot)[]).flatMap((k) => s[k].filter((l) => l.includes(`"${ip}"`) || l.includes(`"${ip}/32"`)));
    const now = await settled(node.netns);
    expect(names(now, kept.ip).length).toBeGreaterThanOrEqual(3);
    expect(names(now, gone.ip)).toEqual([]);
    expect(await world.cnitool(['check', net, kept.netns], kept.env)).toMatchObject({ code: 0 });
    expect(await world.cnitool(['del', net, kept.netns], kept.env)).toMatchObject({ code: 0 });
    await eventually('the node holds nothing of ours', async () => ((await agentObjects(node.netns)).length === 0 ? true : undefined), 15_000, 200);
  }, 120_000);

  test('malformed configuration and arguments: the right code, and the node namespace is untouched', async () => {
    const pod = await veth!.createPod('cni-b', node);
    await plannedAttachment(node.name, pod.metadata!.uid!).catch(withLogs(veth));
    const netns = await world.addNamespace();
    const before = await settled(node.netns);

    const conf = { ...world.pluginConfig('1.0.0', { agentSocket: node.socket, timeoutMs: 30_000 }), name: 'eni' };
    const good = JSON.stringify(conf);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'malformed-1', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: podArgs(pod) };
    const { CNI_CONTAINERID: _omit, ...noContainer } = env;
    const cases: [string, Record<string, string>, string, number][] = [
      ['bad JSON', env, '{"cniVersion": "1.0.0", "name": ', 6],
      ['wrong cniVersion', env, JSON.stringify({ ...conf, cniVersion: '0.4.0' }), 1],
      ['missing name', env, JSON.stringify({ ...conf, name: undefined }), 7],
      ['ipam present', env, JSON.stringify({ ...conf, ipam: { type: 'host-local', subnet: '10.9.0.0/24' } }), 2],
      ['missing CNI_CONTAINERID', noContainer, good, 4],
      ['bad CNI_ARGS', { ...env, CNI_ARGS: 'K8S_POD_NAMESPACE' }, good, 4],
      ['CNI_ARGS without the pod', { ...env, CNI_ARGS: 'IgnoreUnknown=1' }, good, 4],
      // Valid in every field the plugin checks, and for a planned pod: the agent itself finds the namespace missing.
      ['nonexistent netns', { ...env, CNI_NETNS: `/run/netns/${world.id}-missing` }, good, 3],
    ];
    const codes: [string, number][] = [];
    for (const [what, cniEnv, stdin] of cases) codes.push([what, cniError(await world.plugin(cniEnv, stdin)).code]);
    expect(codes).toEqual(cases.map(([what, , , code]) => [what, code]));

    // DEL with the same malformed inputs is refused the same way where the spec requires the field.
    expect(cniError(await world.plugin({ ...noContainer, CNI_COMMAND: 'DEL' }, good)).code).toBe(4);

    const after = await settled(node.netns);
    expect(added(before, after)).toEqual([]);
    expect(added(after, before)).toEqual([]);
  }, 90_000);
});

describe('ipvlan requested on a kernel without ipvlan', () => {
  beforeAll(async () => {
    ipv = await AgentCluster.start({ scenario: 'agipv', prefix: 'agipv', instances: ['i-bp1simnode000000001'], mode: { datapath: 'ipvlan' } });
  }, 120_000);

  afterAll(async () => {
    await ipv?.stop();
  }, 120_000);

  test('capabilities say so, the attachment is Failed with IPVlanUnsupported, the kubelet records the agent\'s message, the pod never runs and nothing is left', async () => {
    const c = ipv!;
    const n = c.nodes[0]!;
    const nn = await eventually('NodeNetwork capabilities reported', async () => (await nodeNetwork(n.name))?.status?.capabilities, 30_000, 200).catch(withLogs(c));
    expect(nn.ipvlan).toBe(false);
    expect((await nodeNetwork(n.name))?.spec.datapath).toBe('ipvlan');
    const before = await settled(n.netns);
    expect(await agentObjects(n.netns)).toEqual([]);

    const pod = await c.createPod('ipv-a', n);
    const uid = pod.metadata!.uid!;
    const att = await plannedAttachment(n.name, uid).catch(withLogs(c));
    expect(att.mode).toBe('ipvlan');
    const failed = await eventually('attachment Failed', async () => {
      const s = await attachmentStatus(n.name, uid);
      return s?.state === 'Failed' ? s : undefined;
    }, 30_000, 200).catch(withLogs(c));
    expect(failed.reason).toBe('IPVlanUnsupported');
    expect(failed.message).toMatch(/cannot create ipvlan links.*use the veth datapath/);

    const event = await eventually('a FailedCreatePodSandBox Event', async () => {
      const list = await c.core.listNamespacedEvent({ namespace: c.namespace, fieldSelector: `involvedObject.uid=${uid}` });
      return list.items.find((e) => e.reason === 'FailedCreatePodSandBox');
    }, 30_000, 200);
    expect(event.source?.component).toBe('kubelet');
    expect(event.message).toContain(failed.message!.replace(/^IPVlanUnsupported: /, ''));
    expect(event.message).toContain('IPVlanUnsupported');

    // The kubelet keeps retrying with backoff (ADD fails, DEL cleans up): across several rounds the
    // pod stays not Running, the status stays Failed (a cleanup DEL is no release), and the node stays clean.
    const states = new Set<string>();
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      states.add((await attachmentStatus(n.name, uid))?.state ?? 'absent');
      const p = await c.pod('ipv-a');
      expect(p?.status?.phase).not.toBe('Running');
      expect(p?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
      expect(await agentObjects(n.netns)).toEqual([]);
    }
    expect([...states]).toEqual(['Failed']);
    expect((await nodeNetwork(n.name))?.status?.capabilities?.ipvlan).toBe(false);

    // The pod goes: its sandbox namespaces are gone and the node namespace is as it was.
    await c.core.deleteNamespacedPod({ name: 'ipv-a', namespace: c.namespace });
    await eventually('pod ipv-a gone', async () => ((await c.pod('ipv-a')) ? undefined : true), 30_000, 200);
    const { stdout } = await exec('ip', ['netns', 'list']);
    expect(stdout.split('\n').filter((l) => l.startsWith(`${n.podPrefix}-`))).toEqual([]);
    const after = await settled(n.netns);
    expect(added(before, after)).toEqual([]);
    expect(added(after, before)).toEqual([]);
  }, 120_000);
});
