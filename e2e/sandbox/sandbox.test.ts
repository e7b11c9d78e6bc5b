// `sandbox up` / `down` end to end, as `make sandbox-up` runs them: a real
// control plane, the emulator's VPC fabric and simulated kubelets running
// pods with the reference bridge CNI (`--cni bridge`: the kubelet proven
// without the operator); then crashes (SIGKILLed supervisors, one of them
// running the operator) and their cleanup by the next `up`, and a `down` that
// leaves nothing. operator.test.ts has the sandbox with the operator at work.
// Each sandbox lives in a folder of this run; root only.
import * as k8s from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listNamespaces } from '../../src/cloudsim/fabric/cleanup.js';
import { isAlive } from '../harness/processes.js';
import { waitForDefaultServiceAccount } from '../harness/scenario.js';
import type { SandboxInfo } from './info.js';
import { sandboxNames } from './naming.js';
import { readInfo, readState } from './state.js';
import { NOTHING_LEFT, eventually, exec, failures, footprint, leftovers, namespacesOf, podNetns, probe, sandbox } from './test-kit.js';

const root = mkdtempSync(join(tmpdir(), 'eni-sandbox-test-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');

afterAll(async () => {
  for (const dir of [dirA, dirB]) await sandbox('down', '--dir', dir).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describe('a sandbox of two Alibaba nodes', () => {
  let info: SandboxInfo;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  beforeAll(async () => {
    const out = await sandbox('up', '--dir', dirA, '--nodes', '2', '--provider', 'alibaba', '--cni', 'bridge');
    expect(out).toMatch(/sandbox up in \d+ ms \(2 alibaba nodes, bridge CNI\)/);
    info = readInfo(dirA);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  }, 120_000);

  test('the env file lists every endpoint, and a shell reads it back', async () => {
    const env = readFileSync(join(dirA, 'env'), 'utf8');
    expect(env).toMatch(/^KUBECONFIG=.*\/kubeconfig$/m);
    expect(env).toMatch(/^ENI_SANDBOX_APISERVER=https:\/\/127\.0\.0\.1:\d+$/m);
    expect(env).toMatch(/^ENI_SANDBOX_ETCD=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(env).toMatch(/^ENI_SANDBOX_KUBECONFIG_CONTROLLER=.*kubeconfig-controller$/m);
    expect(env).toMatch(/^ENI_SANDBOX_KUBECONFIG_AGENT=.*kubeconfig-agent$/m);
    expect(env).toMatch(/^ENI_SANDBOX_CNI=bridge$/m);
    // No operator with the bridge CNI: nothing of it is listed, and no NetworkMode is offered.
    expect(env).not.toMatch(/CONTROLLER_HEALTH|AGENT_SOCKET|NETWORKMODE/);
    expect(existsSync(join(dirA, 'networkmode.yaml'))).toBe(false);
    expect(await (await fetch(`${info.cloudsimURL}/_admin/healthz`)).json()).toEqual({ ok: true });
    const { fabricPrefix } = sandboxNames(dirA);
    const shell = `source ${join(dirA, 'env')} && echo "$ENI_SANDBOX_FABRIC_PREFIX|$ENI_SANDBOX_ROUTER_NETNS|$ENI_SANDBOX_NODES|$ENI_SANDBOX_NODE_2_NETNS|$ENI_SANDBOX_NODE_2_IP|$ENI_SANDBOX_NODE_2_KUBELET_LOG"`;
    const n2 = info.nodes[1]!;
    expect((await exec('bash', ['-c', shell])).stdout.trim()).toBe(`${fabricPrefix}|${fabricPrefix}-r|node-1 node-2|${n2.netns}|${n2.ip}|${n2.kubeletLog}`);
    expect(readFileSync(n2.kubeletLog, 'utf8')).toContain('"kubelet started"');
  });

  test('each node is Ready, with its providerID, cloud labels, capacity and primary IP', async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => n.metadata!.name).sort()).toEqual(['node-1', 'node-2']);
    for (const [i, want] of info.nodes.entries()) {
      const node = nodes.find((n) => n.metadata!.name === want.name)!;
      expect(node.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
      expect(node.spec!.providerID).toBe(`cn-hangzhou.${want.instanceId}`);
      expect(node.metadata!.labels).toMatchObject({
        'kubernetes.io/hostname': want.name,
        'topology.kubernetes.io/region': 'cn-hangzhou',
        'topology.kubernetes.io/zone': ['cn-hangzhou-i', 'cn-hangzhou-j'][i],
        'node.kubernetes.io/instance-type': 'ecs.g7.xlarge',
        'eni-operator.io/sandbox': info.id,
      });
      // ecs.g7.xlarge: 4 vCPU, 16 GiB, 4 ENIs x 15 IPs -> 3 x 14 pod IPs.
      expect(node.status!.capacity).toMatchObject({ cpu: '4', memory: '16Gi', pods: '42' });
      expect(node.status!.addresses).toContainEqual({ type: 'InternalIP', address: want.ip });
    }
  });

  test("the emulator's fabric holds each node's namespace, whose eth0 is the node's primary IP", async () => {
    const fabric = (await (await fetch(`${info.cloudsimURL}/_admin/fabric`)).json()) as { prefix: string; routerNs: string; nodes: Record<string, string> };
    expect(fabric.prefix).toBe(info.fabricPrefix);
    expect(fabric.routerNs).toBe(info.routerNetns);
    for (const n of info.nodes) {
      expect(fabric.nodes[n.instanceId]).toBe(n.netns);
      const addrs = JSON.parse((await exec('ip', ['-n', n.netns, '-j', '-4', 'addr', 'show', 'eth0'])).stdout) as { addr_info: { local: string }[] }[];
      expect(addrs[0]!.addr_info.map((a) => a.local)).toContain(n.ip);
    }
  });

  test('a second up leaves the running sandbox alone', async () => {
    const before = readState(dirA)!;
    expect(await sandbox('up', '--dir', dirA)).toContain('already up');
    expect(readState(dirA)!.supervisorPid).toBe(before.supervisorPid);
  });

  test('the scheduler spreads a Deployment over both nodes; pods run and reach a pod on their node and the node itself', async () => {
    const ns = 'web';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await waitForDefaultServiceAccount(core, ns);
    const echo = (port: number): k8s.V1Container => ({ name: 'echo', image: 'sim/echo', ports: [{ containerPort: port, protocol: 'TCP' }] });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [echo(8080)] } } },
      },
    });
    // A server in each node's own namespace: host-network pods, as node agents run.
    await apps.createNamespacedDaemonSet({
      namespace: ns,
      body: {
        metadata: { name: 'host' },
        spec: { selector: { matchLabels: { app: 'host' } }, template: { metadata: { labels: { app: 'host' } }, spec: { hostNetwork: true, containers: [echo(9090)] } } },
      },
    });
    const running = (p: k8s.V1Pod) => p.status?.phase === 'Running' && Boolean(p.status.podIP);
    const pods = await eventually('4 web and 2 host pods Running', async () => {
      const items = (await core.listNamespacedPod({ namespace: ns })).items;
      return items.filter(running).length === 6 ? items : undefined;
    }, 60_000);
    const web = pods.filter((p) => p.metadata!.labels!.app === 'web');
    const byNode = (name: string) => web.filter((p) => p.spec!.nodeName === name);
    for (const [i, node] of info.nodes.entries()) {
      expect(byNode(node.name).length).toBeGreaterThanOrEqual(1);
      for (const p of byNode(node.name)) {
        expect(p.status!.podIP).toMatch(new RegExp(`^10\\.244\\.${i}\\.\\d+$`)); // the node's bridge range
        expect(p.status!.hostIP).toBe(node.ip);
      }
    }
    // From a pod of the node with the most: its neighbours on the bridge, and its node's primary IP.
    const node = info.nodes.reduce((a, b) => (byNode(b.name).length > byNode(a.name).length ? b : a));
    const [src, ...peers] = byNode(node.name);
    const srcNetns = podNetns(node.podNetnsPrefix, src!.metadata!.uid!);
    expect(listNamespaces()).toContain(srcNetns);
    const targets = [...peers.map((p) => `${p.status!.podIP}:8080`), `${node.ip}:9090`];
    const results = await probe(srcNetns, targets);
    expect(results.length).toBe(targets.length);
    expect(failures(results)).toEqual([]);
  }, 90_000);

  test('a SIGKILLed supervisor takes every process with it; its namespaces stay until the next up, from another folder', async () => {
    const before = footprint(dirA);
    const { fabricPrefix } = readState(dirA)!;
    expect(before.pids.length).toBeGreaterThan(10); // supervisor, 4 control-plane, emulator, 2 kubelets, 6 pods
    process.kill(before.state.supervisorPid, 'SIGKILL');
    await eventually('the sandbox processes to die with the supervisor', () => !before.pids.some(isAlive), 20_000);
    const left = namespacesOf(fabricPrefix);
    expect(left).toContain(`${fabricPrefix}-r`);
    expect(left.filter((n) => n.startsWith(`${fabricPrefix}-p`)).length).toBe(4); // the web pods'

    // The next sandbox runs the operator (the default CNI), on the other cloud.
    const out = await sandbox('up', '--dir', dirB, '--nodes', '1', '--provider', 'tencent');
    expect(out).toContain(`removed what a crashed sandbox at ${dirA} left (${left.length} network namespaces`);
    expect(await leftovers(dirA, before)).toEqual(NOTHING_LEFT);
  }, 120_000);
});

describe('a crashed sandbox in the same folder, running the operator', () => {
  test('is replaced by the next up, which down then removes without a trace', async () => {
    if (!existsSync(join(dirB, 'env'))) await sandbox('up', '--dir', dirB, '--nodes', '1', '--provider', 'tencent'); // the test above failed early
    const info = readInfo(dirB);
    expect(info.cni).toBe('eni');
    expect(info.nodes.map((n) => [n.name, n.providerID])).toEqual([['node-1', 'qcloud:///100003/ins-sbx00001']]);
    // The Tencent NetworkMode and Secret: the subnets and credentials of that cloud.
    expect(readFileSync(join(dirB, 'networkmode.yaml'), 'utf8')).toMatch(/type: tencent\n\s+region: ap-guangzhou[\s\S]*- subnet-pods0003\n\s+- subnet-pods0006/);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    const secret = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace: 'eni-operator-system', name: 'sandbox-tencent-credentials' });
    expect(Buffer.from(secret.data!.secretId!, 'base64').toString()).toBe('AKIDSimulatorSecretId0001');
    const first = footprint(dirB);
    process.kill(first.state.supervisorPid, 'SIGKILL');
    await eventually('the sandbox processes to die with the supervisor', () => !first.pids.some(isAlive), 20_000);

    expect(await sandbox('up', '--dir', dirB, '--nodes', '1', '--provider', 'tencent')).toContain(`removed a stale sandbox at ${dirB}`);
    const second = footprint(dirB);
    expect(second.state.supervisorPid).not.toBe(first.state.supervisorPid);
    expect(first.pids.filter(isAlive)).toEqual([]);

    const down = await sandbox('down', '--dir', dirB);
    // supervisor + etcd, kube-apiserver, kube-controller-manager, kube-scheduler, emulator, controller, 1 agent, 1 kubelet
    expect(down).toMatch(/sandbox down: 9 processes stopped .* nothing left/);
    expect(await leftovers(dirB, second)).toEqual(NOTHING_LEFT);
    expect(await sandbox('down', '--dir', dirB)).toContain('no sandbox is up');
  }, 120_000);
});
