// The sandbox with the operator at work, as a user meets it: `sandbox up`
// (default CNI: eni) runs a controller and an agent per node; applying the
// NetworkMode the sandbox wrote is all it takes for a Deployment's pods to
// get VPC addresses from ENIs and reach each other across nodes; `down`
// leaves nothing. Root only; the sandbox lives in a folder of this run.
import * as k8s from '@kubernetes/client-node';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCidr, cidrContains } from '../../src/util/ipv4.js';
import { kubectl, type ControlPlaneInfo } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { isAlive } from '../harness/processes.js';
import { waitForDefaultServiceAccount } from '../harness/scenario.js';
import type { SandboxInfo } from './info.js';
import { readInfo } from './state.js';
import { NOTHING_LEFT, eventually, exec, failures, footprint, leftovers, podNetns, probe, sandbox } from './test-kit.js';

const root = mkdtempSync(join(tmpdir(), 'eni-sandbox-op-'));
const dir = join(root, 'sb');
let info: SandboxInfo;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

const env = () => readFileSync(join(dir, 'env'), 'utf8');
const envValue = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(env())?.[1];

/** The sandbox's logs, for a failure message. */
function logs(): string {
  const files = [join(dir, 'controller.log'), ...info.nodes.flatMap((n) => [n.agent?.log ?? '', n.kubeletLog])].filter((f) => f && existsSync(f));
  return files.map((f) => `--- ${f}\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-12).join('\n')}`).join('\n');
}

beforeAll(async () => {
  const out = await sandbox('up', '--dir', dir, '--nodes', '2');
  expect(out).toMatch(/sandbox up in \d+ ms \(2 alibaba nodes, eni CNI\)/);
  info = readInfo(dir);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(info.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
}, 120_000);

afterAll(async () => {
  await sandbox('down', '--dir', dir).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 120_000);

test('the operator runs as deployed, and the env file lists its endpoints and the NetworkMode to apply', async () => {
  expect(info.cni).toBe('eni');
  for (const url of [envValue('ENI_SANDBOX_CONTROLLER_HEALTH'), envValue('ENI_SANDBOX_NODE_1_AGENT_HEALTH'), envValue('ENI_SANDBOX_NODE_2_AGENT_HEALTH')]) {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
    expect((await fetch(url!)).status).toBe(200);
  }
  const metrics = await (await fetch(envValue('ENI_SANDBOX_CONTROLLER_METRICS')!)).text();
  expect(metrics).toContain('eni_operator_cloud_requests_total');
  expect(envValue('ENI_SANDBOX_NETWORKMODE')).toBe(join(dir, 'networkmode.yaml'));
  expect(envValue('ENI_SANDBOX_NODE_LABEL')).toBe(`eni-operator.io/sandbox=${info.id}`);
  // The controller tags ENIs with the sandbox's id.
  expect(readFileSync(join(dir, 'controller.log'), 'utf8')).toContain(`"clusterID":"${info.id}"`);

  for (const n of info.nodes) {
    // The node's CNI is eni-cni, pointing at its agent's socket, found in a bin dir as a runtime finds plugins.
    const conf = JSON.parse(readFileSync(join(n.cniConfDir, '10-sandbox.conflist'), 'utf8')) as { plugins: { type: string; agentSocket: string }[] };
    expect(conf.plugins).toEqual([expect.objectContaining({ type: 'eni-cni', agentSocket: n.agentSocket })]);
    expect(lstatSync(n.agentSocket).isSocket()).toBe(true);
    expect(readlinkSync(join(dir, 'cni-bin', 'eni-cni'))).toBe(repoPath('dist/bin/eni-cni'));
  }
  // Only the controller holds the credentials; the sandbox made the Secret it reads.
  const secret = await core.readNamespacedSecret({ namespace: 'eni-operator-system', name: 'sandbox-alibaba-credentials' });
  expect(Buffer.from(secret.data!.accessKeyId!, 'base64').toString()).toBe('LTAI5tSimulatorKey0001');
});

test('applying the written NetworkMode gives a Deployment VPC addresses from the pod subnets; pods reach each other across nodes', async () => {
  const cp = { kubeconfigs: info.kubeconfigs } as ControlPlaneInfo;
  expect(await kubectl(cp, ['apply', '-f', info.operator!.networkMode])).toContain('networkmode.network.eni-operator.io/sandbox created');

  const ns = 'web';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await waitForDefaultServiceAccount(core, ns);
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'echo', image: 'sim/echo', ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 8080, protocol: 'UDP' }] }] },
        },
      },
    },
  });
  const pods = await eventually('4 web pods Running', async () => {
    const items = (await core.listNamespacedPod({ namespace: ns })).items;
    return items.length === 4 && items.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
  }, 90_000).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${logs()}`)));

  // Each address is in the pod subnet of its node's zone: zone i is 10.0.16.0/20, zone j 10.0.32.0/20.
  const subnetOfZone = new Map(info.operator!.podSubnets.map((s) => [s.zone, parseCidr(s.cidr)]));
  expect(info.operator!.podSubnets.map((s) => s.cidr)).toEqual(['10.0.16.0/20', '10.0.32.0/20']);
  for (const p of pods) {
    const node = info.nodes.find((n) => n.name === p.spec!.nodeName)!;
    expect([p.metadata!.name, cidrContains(subnetOfZone.get(node.zone)!, p.status!.podIP!)]).toEqual([p.metadata!.name, true]);
  }
  const onNode = (n: SandboxInfo['nodes'][number]) => pods.filter((p) => p.spec!.nodeName === n.name);
  const [n1, n2] = info.nodes as [SandboxInfo['nodes'][number], SandboxInfo['nodes'][number]];
  expect(onNode(n1).length).toBeGreaterThanOrEqual(1); // the scheduler spreads them
  expect(onNode(n2).length).toBeGreaterThanOrEqual(1);

  // Cross-node (and cross-subnet) echo, both ways, over TCP and UDP.
  const ips = (list: k8s.V1Pod[]) => list.map((p) => `${p.status!.podIP!}:8080`);
  const from1 = await probe(podNetns(n1.podNetnsPrefix, onNode(n1)[0]!.metadata!.uid!), ips(onNode(n2)), true);
  const from2 = await probe(podNetns(n2.podNetnsPrefix, onNode(n2)[0]!.metadata!.uid!), ips(onNode(n1)), true);
  expect(from1.length).toBe(2 * onNode(n2).length);
  expect(from2.length).toBe(2 * onNode(n1).length);
  expect([...failures(from1), ...failures(from2)]).toEqual([]);
}, 150_000);

test('down stops the operator with the rest and leaves nothing', async () => {
  const before = footprint(dir);
  // supervisor + 4 control-plane processes, the emulator, the controller, 2 agents, 2 kubelets, 4 pods
  expect(before.pids.filter(isAlive).length).toBeGreaterThanOrEqual(15);
  const out = await sandbox('down', '--dir', dir);
  expect(out).toMatch(/sandbox down: 11 processes stopped \(and \d+ in its namespaces\), .* nothing left/);
  expect(await leftovers(dir, before)).toEqual(NOTHING_LEFT);
  expect(await exec('ip', ['netns', 'list']).then((r) => r.stdout)).not.toContain(info.fabricPrefix);
}, 120_000);
