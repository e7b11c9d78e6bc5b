// The simulated kubelet against the shared control plane (real scheduler and
// controller-manager), the real kernel and CNI plugins nobody here wrote: the
// reference bridge + host-local + tuning plugins of containernetworking-plugins.
// The node is a network namespace of this run, tainted so only this file's
// pods land on it. Root only.
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { controlPlane, kubeConfig } from '../harness/cluster.js';
import { repoPath } from '../harness/paths.js';
import { ProcessGroup } from '../harness/processes.js';
import { waitForDefaultServiceAccount } from '../harness/scenario.js';
import { CNIRuntime, loadNetworkConfig, podIPs } from './cni.js';
import type { ProbeResult } from './echo-client.js';
import { deleteNetns, ensureNetns, netnsPath } from './netns.js';
import { LEASE_NAMESPACE } from './node-heartbeat.js';
import { createTestNode, sweepStaleTestNodes, type TestNode } from './test-node.js';

const execFileP = promisify(execFile);
const CNI_BIN = '/usr/lib/cni';
const kc = kubeConfig('admin');
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const leases = kc.makeApiClient(k8s.CoordinationV1Api);

let node: TestNode;
let group: ProcessGroup;
let NS: string;
let NODE: string;
let taint: k8s.V1Taint;
let kubeletPid = 0;
let kubeletRuns = 0;
const extraNodes: string[] = [];

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = await Promise.resolve().then(probe).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
  }
}

const logFile = (run: number) => join(node.dir, `kubelet-${run}.log`);

/**
 * Starts a kubelet for NODE (extra args appended); resolves once it has listed
 * its pods. `nodeIP` null: the kubelet finds it in the node's namespace.
 */
async function startKubelet(extra: string[] = [], nodeName = NODE, prefix = node.podPrefix, nodeIP: string | null = node.gateway): Promise<number> {
  const run = ++kubeletRuns;
  const args = [
    repoPath('dist/e2e/kubelet/main.js'),
    ...['--kubeconfig', controlPlane().kubeconfigs.admin, '--node', nodeName, '--node-netns', node.nodeNetns],
    ...(nodeIP ? ['--node-ip', nodeIP] : []),
    ...['--netns-prefix', prefix, '--cni-bin-dir', CNI_BIN, '--cni-conf-dir', node.confDir, '--state-dir', join(node.stateDir, nodeName)],
    ...['--backoff-initial', '1s', '--backoff-max', '8s'],
    ...extra,
  ];
  const proc = group.start(`kubelet-${run}`, process.execPath, args, logFile(run));
  const log = () => readFileSync(logFile(run), 'utf8');
  await Promise.race([
    eventually('kubelet started', () => log().includes('"kubelet started"') || undefined),
    group.exited(`kubelet-${run}`).then((code) => Promise.reject(new Error(`kubelet exited (${code})`))),
  ]).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${log()}`)));
  return proc.pid!;
}

function logLines(run: number): { msg: string; time: string; [k: string]: unknown }[] {
  return readFileSync(logFile(run), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; time: string });
}

async function podsOf(selector?: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, ...(selector ? { labelSelector: selector } : {}) })).items;
}

const running = (p: k8s.V1Pod) => p.status?.phase === 'Running' && Boolean(p.status.podIP) && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

const echoContainer: k8s.V1Container = {
  name: 'echo',
  image: 'sim/echo',
  ports: [
    { containerPort: 8080, protocol: 'TCP' },
    { containerPort: 8080, protocol: 'UDP' },
  ],
};

/** A pod bound to NODE directly (no scheduler), as a DaemonSet or static pod would be. */
async function createBoundPod(name: string, testCase: string): Promise<k8s.V1Pod> {
  return core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels: { case: testCase } }, spec: { nodeName: NODE, tolerations: [{ ...taint, operator: 'Equal' }], containers: [echoContainer] } } });
}

/** Runs the echo client inside a network namespace; returns its per-target results. */
async function probe(netns: string, targets: string[]): Promise<ProbeResult[]> {
  const list = targets.join(',');
  const args = ['netns', 'exec', netns, process.execPath, repoPath('dist/e2e/kubelet/echo-client.js'), '--tcp', list, '--udp', list, '--timeout-ms', '3000'];
  const out = await execFileP('ip', args).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
  return JSON.parse(out.stdout) as ProbeResult[];
}

const sandboxOf = (p: k8s.V1Pod) => `${node.podPrefix}-${p.metadata!.uid!.replace(/-/g, '').slice(0, 12)}`;

/** Pids of processes started for a pod (the kubelet gives them POD_UID). */
function processesOf(uid: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`POD_UID=${uid}`)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

beforeAll(async () => {
  await sweepStaleTestNodes();
  node = await createTestNode();
  group = new ProcessGroup(`kubelet-test-${process.pid}`, node.dir, false);
  NS = node.id;
  NODE = node.id;
  taint = { key: 'eni-operator.io/kubelet-test', value: node.id, effect: 'NoSchedule' };
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await waitForDefaultServiceAccount(core, NS);
  await core.createNode({ body: { metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE, [taint.key]: node.id } }, spec: { taints: [taint] } } });
  kubeletPid = await startKubelet();
}, 60_000);

afterAll(async () => {
  await group?.stop(2000);
  // The kubelet is gone: nothing would finalise the pods, so they go without waiting.
  if (NS) {
    await apps.deleteNamespacedDeployment({ namespace: NS, name: 'echo' }).catch(() => undefined);
    for (const p of await podsOf().catch(() => [])) await core.deleteNamespacedPod({ namespace: NS, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespace({ name: NS }).catch(() => undefined);
  }
  for (const n of [NODE, ...extraNodes].filter(Boolean)) {
    await core.deleteNode({ name: n }).catch(() => undefined);
    await leases.deleteNamespacedLease({ namespace: LEASE_NAMESPACE, name: n }).catch(() => undefined);
  }
  await node?.remove();
}, 60_000);

test('the CNI runtime: ADD through the chain, DEL twice, DEL after the namespace is gone', async () => {
  expect(() => loadNetworkConfig(join(node.dir, 'state'))).toThrow(/no network config found/);
  const cni = new CNIRuntime({ binDirs: [CNI_BIN], hostNetns: netnsPath(node.nodeNetns) });
  const name = `${node.id}-cni`;
  await ensureNetns(name);
  const rt = { containerId: name, netns: netnsPath(name), ifName: 'eth0', args: [['K8S_POD_NAME', 'direct'] as [string, string]] };
  const list = node.goodConfig();
  const result = await cni.add(list, rt);
  const [ip] = podIPs(result);
  expect(node.reservedIPs()).toEqual([ip]);
  // The host end of the veth is in the node's namespace, not this machine's.
  const ports = await execFileP('ip', ['-n', node.nodeNetns, '-j', 'link', 'show', 'master', node.bridge]);
  expect(JSON.parse(ports.stdout)).toHaveLength(1);
  await cni.del(list, rt, result);
  await cni.del(list, rt, result);
  expect(node.reservedIPs()).toEqual([]);
  await deleteNetns(name);
  await cni.del(list, rt, result);
  await expect(cni.add({ ...list, plugins: [{ type: '../bridge' }] }, rt)).rejects.toThrow(/invalid plugin type/);
});

test('the node is Ready and its Lease renewed', async () => {
  const n = await core.readNode({ name: NODE });
  expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: node.gateway });
  expect(n.status?.allocatable?.pods).toBe('110');
  const lease = await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name: NODE });
  expect(lease.spec?.holderIdentity).toBe(NODE);
  expect(Date.now() - new Date(lease.spec!.renewTime!).getTime()).toBeLessThan(15_000);
});

test('(a) a Deployment of 6 scheduled onto the node runs with distinct pod IPs that reach each other over TCP and UDP', async () => {
  // Bind (scheduler) and Running times per pod, as the API server tells them.
  const bound = new Map<string, number>();
  const up = new Map<string, number>();
  const watch = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, { labelSelector: 'app=echo' }, (_type, obj: k8s.V1Pod) => {
    const uid = obj.metadata!.uid!;
    if (obj.spec?.nodeName && !bound.has(uid)) bound.set(uid, Date.now());
    if (running(obj) && !up.has(uid)) up.set(uid, Date.now());
  }, () => undefined);
  try {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'echo' },
        spec: {
          replicas: 6,
          selector: { matchLabels: { app: 'echo' } },
          template: {
            metadata: { labels: { app: 'echo' } },
            spec: { nodeSelector: { 'kubernetes.io/hostname': NODE }, tolerations: [{ ...taint, operator: 'Equal' }], terminationGracePeriodSeconds: 5, containers: [echoContainer] },
          },
        },
      },
    });
    const pods = await eventually('6 pods Running', async () => {
      const ps = await podsOf('app=echo');
      return ps.length === 6 && ps.every(running) ? ps : undefined;
    }, 60_000);
    const latencies = [...up].map(([uid, t]) => t - bound.get(uid)!).sort((a, b) => a - b);
    const adds = logLines(kubeletRuns).filter((l) => l.msg === 'sandbox ready').map((l) => l.addMs as number);
    console.log(`bind → Running (ms) for 6 pods: ${latencies.join(', ')}; CNI ADD (ms): ${adds.join(', ')}`);
    expect(latencies).toHaveLength(6);

    const ips = pods.map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(6);
    const prefix = node.subnet.split('.').slice(0, 3).join('.') + '.';
    for (const p of pods) {
      expect(p.spec!.nodeName).toBe(NODE);
      expect(p.status!.podIP!.startsWith(prefix)).toBe(true);
      expect(p.status!.hostIP).toBe(node.gateway);
      expect(p.status!.podIPs).toEqual([{ ip: p.status!.podIP }]);
    }
    expect(node.reservedIPs().sort()).toEqual([...ips].sort());
    expect(node.podNetns().sort()).toEqual(pods.map(sandboxOf).sort());

    // The chained tuning plugin found the pod's interface through prevResult.
    const link = await execFileP('ip', ['-n', sandboxOf(pods[0]!), '-j', 'link', 'show', 'eth0']);
    expect((JSON.parse(link.stdout) as { mtu: number }[])[0]!.mtu).toBe(1400);

    // From pod 0 to the five others, and back from pod 5 to pod 0, on both protocols.
    const from0 = await probe(sandboxOf(pods[0]!), ips.slice(1).map((ip) => `${ip}:8080`));
    expect(from0.filter((r) => !r.ok)).toEqual([]);
    expect(from0).toHaveLength(10);
    const back = await probe(sandboxOf(pods[5]!), [`${ips[0]}:8080`]);
    expect(back.map((r) => [r.proto, r.ok])).toEqual([['tcp', true], ['udp', true]]);
    // A port nobody listens on fails: the probe can tell.
    const closed = await probe(sandboxOf(pods[0]!), [`${ips[1]}:9`]);
    expect(closed.some((r) => r.ok)).toBe(false);
  } finally {
    watch.abort();
  }
}, 90_000);

test('(b) scaling to 0 removes every pod namespace, sandbox record and host-local reservation', async () => {
  const before = (await podsOf('app=echo')).map(sandboxOf);
  expect(before).toHaveLength(6);
  await apps.patchNamespacedDeploymentScale({ namespace: NS, name: 'echo', body: { spec: { replicas: 0 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await eventually('no echo pods left', async () => ((await podsOf('app=echo')).length === 0 ? true : undefined), 60_000);
  expect(node.podNetns()).toEqual([]);
  expect(node.reservedIPs()).toEqual([]);
  expect(readdirSync(join(node.stateDir, NODE, 'sandboxes'))).toEqual([]);
  // The bridge in the node namespace has no veth left.
  const ports = await execFileP('ip', ['-n', node.nodeNetns, '-j', 'link', 'show', 'master', node.bridge]);
  expect(JSON.parse(ports.stdout || '[]')).toEqual([]);
}, 90_000);

test('(c) a broken CNI config gives FailedCreatePodSandBox Events and a Pending pod, retried with backoff until a fixed config works', async () => {
  const good = node.goodConfig();
  // First a plugin binary that does not exist, after bridge already took an IP.
  node.writeConfig({ ...good, plugins: [good.plugins[0], { type: `${node.id}-no-such-plugin` }] });
  const pod = await createBoundPod('broken-cni', 'c');
  const events = async () => (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` })).items.filter((e) => e.reason === 'FailedCreatePodSandBox');
  const missing = await eventually('event for the missing plugin', async () => (await events()).find((e) => e.message?.includes('failed to find plugin')));
  expect(missing.type).toBe('Warning');
  expect(missing.message).toContain(`plugin type="${node.id}-no-such-plugin"`);

  // Then a plugin that runs and answers with a CNI error object (code + msg).
  node.writeConfig({ ...good, plugins: [{ ...good.plugins[0], ipam: { type: 'host-local', ranges: [[{ subnet: '10.251.0.0/33' }]], dataDir: node.ipamDir } }] });
  const coded = await eventually('event with the plugin\'s error code', async () => (await events()).find((e) => /plugin type="bridge".*\(code \d+\)/.test(e.message ?? '')));
  expect(coded.message).toMatch(/^Failed to create pod sandbox: /);

  const failures = () => logLines(kubeletRuns).filter((l) => l.msg === 'sandbox creation failed' && l.sandbox === sandboxOf(pod)).map((l) => Date.parse(l.time));
  await eventually('a third failed attempt', () => (failures().length >= 3 ? true : undefined));
  const pending = await core.readNamespacedPod({ namespace: NS, name: 'broken-cni' });
  expect(pending.status?.phase).toBe('Pending');
  const ready = pending.status?.conditions?.find((c) => c.type === 'ContainersReady');
  expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  expect(pending.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');

  node.writeConfig(good);
  const ok = await eventually('Running after the fix', async () => {
    const p = await core.readNamespacedPod({ namespace: NS, name: 'broken-cni' });
    return running(p) ? p : undefined;
  }, 30_000);
  // Every failed attempt gave back what it took: only this pod's IP is held.
  expect(node.reservedIPs()).toEqual([ok.status!.podIP]);
  // Retries backed off: each gap at least the doubled delay (1 s, 2 s, ...).
  const times = failures();
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(gaps[0]).toBeGreaterThanOrEqual(900);
  expect(gaps[1]).toBeGreaterThanOrEqual(1800);

  await core.deleteNamespacedPod({ namespace: NS, name: 'broken-cni' });
  await eventually('broken-cni finalised', async () => ((await podsOf('case=c')).length === 0 ? true : undefined));
  expect(node.reservedIPs()).toEqual([]);
}, 90_000);

test('(d) after kill -9 of the kubelet, a restart cleans the namespaces of pods deleted meanwhile and restarts the rest', async () => {
  await Promise.all(['keep', 'graceful', 'forced'].map((name) => createBoundPod(name, 'd')));
  const pods = await eventually('3 bare pods Running', async () => {
    const ps = await podsOf('case=d');
    return ps.length === 3 && ps.every(running) ? Object.fromEntries(ps.map((p) => [p.metadata!.name!, p])) : undefined;
  });
  for (const p of Object.values(pods)) expect(processesOf(p.metadata!.uid!)).not.toEqual([]);

  process.kill(kubeletPid, 'SIGKILL');
  await group.exited(`kubelet-${kubeletRuns}`);
  // The pods' processes died with it (pdeathsig); their namespaces stay, as a runtime's sandboxes do.
  await eventually('pod processes gone', () => (Object.values(pods).every((p) => processesOf(p.metadata!.uid!).length === 0) ? true : undefined), 5000);
  expect(node.podNetns().length).toBe(3);

  // One deleted gracefully (waits for a kubelet to finalise it), one force-deleted (gone at once).
  await core.deleteNamespacedPod({ namespace: NS, name: 'graceful' });
  await core.deleteNamespacedPod({ namespace: NS, name: 'forced', gracePeriodSeconds: 0 });
  expect((await core.readNamespacedPod({ namespace: NS, name: 'graceful' })).metadata?.deletionTimestamp).toBeDefined();

  kubeletPid = await startKubelet();
  await eventually('graceful finalised, both namespaces gone', async () => {
    const names = (await podsOf('case=d')).map((p) => p.metadata!.name);
    return names.length === 1 && node.podNetns().length === 1 ? true : undefined;
  });
  expect(node.podNetns()).toEqual([sandboxOf(pods.keep!)]);
  expect(node.reservedIPs()).toEqual([pods.keep!.status!.podIP]);
  const lines = logLines(kubeletRuns);
  expect(lines.some((l) => l.msg === 'sandbox without a pod: tearing it down' && l.sandbox === sandboxOf(pods.forced!))).toBe(true);

  // The surviving pod kept its sandbox and IP; its container was restarted.
  const keep = await eventually('keep Running again', async () => {
    const p = await core.readNamespacedPod({ namespace: NS, name: 'keep' });
    return running(p) && p.status!.containerStatuses![0]!.restartCount === 1 ? p : undefined;
  });
  expect(keep.status!.podIP).toBe(pods.keep!.status!.podIP);
  const fromNode = await probe(node.nodeNetns, [`${keep.status!.podIP}:8080`]);
  expect(fromNode.map((r) => r.ok)).toEqual([true, true]);

  // A container that dies is restarted in place (same sandbox and IP) after a back-off.
  for (const pid of processesOf(keep.metadata!.uid!)) process.kill(pid, 'SIGKILL');
  const again = await eventually('keep restarted after its process was killed', async () => {
    const p = await core.readNamespacedPod({ namespace: NS, name: 'keep' });
    return running(p) && p.status!.containerStatuses![0]!.restartCount === 2 ? p : undefined;
  });
  expect(again.status!.containerStatuses![0]!.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
  expect(again.status!.podIP).toBe(keep.status!.podIP);
}, 90_000);

test('--register creates the Node with labels, taints and providerID, and keeps it Ready', async () => {
  const name = `${node.id}-reg`;
  extraNodes.push(name);
  const flags = ['--register', '--node-labels', `role=sim,${taint.key}=${node.id}`, '--register-with-taints', `${taint.key}=${node.id}:NoSchedule`, '--provider-id', 'cn-hangzhou.i-sim0001', '--heartbeat-interval', '1s'];
  // No --node-ip: the bridge's address (the only one in the node's namespace by now) is found.
  await startKubelet(flags, name, `${node.id}-r`, null);
  const n = await core.readNode({ name });
  expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: node.gateway });
  expect(n.metadata?.labels).toMatchObject({ role: 'sim', 'kubernetes.io/hostname': name });
  expect(n.spec?.taints).toContainEqual({ key: taint.key, value: node.id, effect: 'NoSchedule' });
  expect(n.spec?.providerID).toBe('cn-hangzhou.i-sim0001');
  expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  const first = (await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name })).spec!.renewTime!;
  const owner = (await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name })).metadata?.ownerReferences?.[0];
  expect(owner).toMatchObject({ kind: 'Node', name, uid: n.metadata?.uid });
  await eventually('lease renewed', async () => {
    const t = (await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name })).spec!.renewTime!;
    return new Date(t).getTime() > new Date(first).getTime() ? true : undefined;
  }, 5000);
});
