// `eni-operator controller` as a real process (two replicas), with the
// controller's own kubeconfig, against the API server and the emulator.
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ENIPool } from '../../src/api/enipool.js';
import type { NetworkMode } from '../../src/api/networkmode.js';
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';
import { createEmulatedMode, createNodes, createPodNamespace, removeScenario } from '../harness/scenario.js';
import { Resources, controlPlane, kubeConfig } from '../harness/cluster.js';
import { repoPath } from '../harness/paths.js';

const NS = 'proc-test';
const admin = new Resources('admin');
const core = () => kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
let sim: Cloudsim;
const replicas: { proc: ChildProcess; health: string; identity: string }[] = [];

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startReplica(identity: string): Promise<(typeof replicas)[number]> {
  const proc = spawn(process.execPath, [repoPath('dist/src/cmd/eni-operator.js'), 'controller', '--kubeconfig', controlPlane().kubeconfigs.controller, '--networkmode-selector', `eni-operator.io/scenario=proc`, '--cluster-id', 'proc', '--listen', '127.0.0.1:0', '--release-grace', '2s', '--identity', identity, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  // Its log, for reading after a failure.
  const log = createWriteStream(join(tmpdir(), `eni-controller-${identity}.log`));
  lines.on('line', (l) => log.write(l + '\n'));
  const health = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      const m = /"health":"([^"]+)"/.exec(l);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`controller ${identity} exited (${code})`)));
  });
  const r = { proc, health, identity };
  replicas.push(r);
  return r;
}

const pool = (n: string) => admin.get<ENIPool>('enipools', n);
const planOf = (n: string) => admin.get<NodeNetwork>('nodenetworks', n);

beforeAll(async () => {
  sim = await startCloudsim();
  const ali = sim.credentials('alibaba');
  await core().createNamespacedSecret({ namespace: 'eni-operator-system', body: { metadata: { name: 'proc-credentials' }, stringData: { accessKeyId: ali.id, accessKeySecret: ali.secret } } });
  await createPodNamespace(NS);
  await createEmulatedMode('proc', sim.host, { secret: 'proc-credentials', pool: { warmIPs: 3, maxIdleIPs: 8, cooldown: '1s' } });
  await createNodes('proc', [
    { name: 'proc-1', instance: 'i-bp1simnode000000001' },
    { name: 'proc-2', instance: 'i-bp1simnode000000003' },
    { name: 'proc-3', instance: 'i-bp1simnode000000004' },
  ]);
}, 60_000);

afterAll(async () => {
  for (const r of replicas) r.proc.kill('SIGKILL');
  await removeScenario('proc', ['proc-1', 'proc-2', 'proc-3'], NS);
  await sim?.close();
});

test('the controller converges 3 nodes, reports its NetworkMode, plans pods, and a standby takes over from a killed leader', async () => {
  const a = await startReplica('replica-a');
  for (const n of ['proc-1', 'proc-2', 'proc-3']) {
    await eventually(`${n} warm`, async () => ((await pool(n)).status?.counts?.freeIPs ?? 0) >= 3 || undefined);
  }
  const mode = await eventually('NetworkMode status', async () => {
    const m = await admin.get<NetworkMode>('networkmodes', 'proc');
    return m.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? m : undefined;
  });
  expect(mode.status?.matchedNodes).toBe(3);
  expect(mode.status?.conditions?.find((c) => c.type === 'CredentialsValid')).toMatchObject({ status: 'True', reason: 'Verified' });

  // A burst of 100 bound pods: 80 on the big node, 20 on another.
  const names = Array.from({ length: 100 }, (_, i) => `p-${i}`);
  await Promise.all(names.map((n, i) => core().createNamespacedPod({ namespace: NS, body: { metadata: { name: n }, spec: { nodeName: i < 80 ? 'proc-3' : 'proc-1', containers: [{ name: 'c', image: 'example.invalid/x' }] } } })));
  const all = await eventually('100 attachments', async () => {
    const list = (await Promise.all(['proc-1', 'proc-2', 'proc-3'].map(planOf))).flatMap((p) => p.spec.attachments ?? []);
    return list.length === 100 ? list : undefined;
  }, 60_000);
  expect(new Set(all.map((x) => x.ip)).size).toBe(100);
  expect(new Set(all.map((x) => x.podUID)).size).toBe(100);

  const metrics = await (await fetch(`http://${a.health}/metrics`)).text();
  expect(metrics).toMatch(/eni_operator_allocation_latency_seconds_count \d+/);
  expect(metrics).toMatch(/eni_operator_cloud_requests_total\{provider="alibaba",api="AssignPrivateIpAddresses",code="OK"\} \d+/);
  expect(metrics).toContain('eni_operator_leader{identity="replica-a"} 1');
  expect((await fetch(`http://${a.health}/readyz`)).status).toBe(200);

  // A standby waits; the leader dies without a word; the standby takes over.
  const b = await startReplica('replica-b');
  await new Promise((r) => setTimeout(r, 1000));
  expect(await (await fetch(`http://${b.health}/metrics`)).text()).toContain('eni_operator_leader{identity="replica-b"} 0');
  a.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await core().createNamespacedPod({ namespace: NS, body: { metadata: { name: 'after-failover' }, spec: { nodeName: 'proc-2', containers: [{ name: 'c', image: 'example.invalid/x' }] } } });
  await eventually('the standby plans the new pod', async () => ((await planOf('proc-2')).spec.attachments ?? []).some((x) => x.name === 'after-failover') || undefined, 30_000);
  expect(Date.now() - killedAt).toBeLessThan(20_000);

  // A rival NetworkMode at the same priority over the same nodes is a Conflict, reported on both.
  await admin.create<NetworkMode>('networkmodes', { ...(await admin.get<NetworkMode>('networkmodes', 'proc')), metadata: { name: 'proc-rival', labels: { 'eni-operator.io/scenario': 'proc' } }, status: undefined });
  const conflicted = await eventually('Conflict on proc', async () => {
    const m = await admin.get<NetworkMode>('networkmodes', 'proc');
    return m.status?.conditions?.find((c) => c.type === 'Conflict' && c.status === 'True') ? m : undefined;
  });
  expect(conflicted.status?.conditions?.find((c) => c.type === 'Conflict')?.message).toContain('proc-rival');
  expect(conflicted.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
  expect(conflicted.status?.matchedNodes).toBe(0);
  await admin.delete('networkmodes', 'proc-rival');
  await eventually('Ready again', async () => (await admin.get<NetworkMode>('networkmodes', 'proc')).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'));

  // Graceful stop: in-flight work finishes, the lease is released, exit 0.
  const exited = new Promise<number | null>((resolve) => b.proc.once('exit', resolve));
  b.proc.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 180_000);
