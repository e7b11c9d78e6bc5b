// The shared control plane runs the real kube-controller-manager and
// kube-scheduler: workloads, scheduling, ServiceAccounts, EndpointSlices and
// garbage collection behave as in a cluster. Other test files share the API
// server, so everything here carries this run's name, and the Node is tainted
// so that only this file's pods may land on it.
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlane, kubeConfig } from './cluster.js';
import { waitForDefaultServiceAccount } from './scenario.js';

const RUN = `full-plane-${randomBytes(3).toString('hex')}`;
const NS = RUN;
const NODE = RUN;
const APP = { app: RUN };
const ONLY_HERE = { key: 'eni-operator.io/full-plane-test', value: RUN, effect: 'NoSchedule' };
const POD_IP = '192.0.2.10'; // TEST-NET-1: written into pod status only, never addressed

const kc = kubeConfig('admin');
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
  }
}

const pods = async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${RUN}` })).items;
const replicaSets = async () => (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `app=${RUN}` })).items;
const ownerOf = (o: { metadata?: k8s.V1ObjectMeta }) => o.metadata?.ownerReferences?.find((r) => r.controller);

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: NS } } });
  // What a kubelet would register: capacity, and Ready with a fresh heartbeat.
  // With no kubelet renewing it, node lifecycle marks it NotReady after its
  // 50 s grace period; this file is done long before.
  const resources = { cpu: '4', memory: '8Gi', pods: '110' };
  const now = new Date();
  await core.createNode({
    body: {
      metadata: { name: NODE, labels: { [ONLY_HERE.key]: RUN } },
      spec: { taints: [ONLY_HERE] },
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test node', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    },
  });
});

afterAll(async () => {
  // No kubelet confirms the pods stopped, so they are removed without waiting for it.
  for (const p of await pods().catch(() => [])) await core.deleteNamespacedPod({ namespace: NS, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined);
  await core.deleteNode({ name: NODE }).catch(() => undefined);
  await core.deleteNamespace({ name: NS }).catch(() => undefined);
});

test('a new namespace gets its default ServiceAccount and the root CA from the controller-manager', async () => {
  // Nothing in this file creates it; an empty ServiceAccount records no field manager to check.
  const sa = await waitForDefaultServiceAccount(core, NS);
  expect(sa.metadata?.namespace).toBe(NS);
  const rootCA = await eventually('kube-root-ca.crt', () => core.readNamespacedConfigMap({ namespace: NS, name: 'kube-root-ca.crt' }).catch(() => undefined));
  expect(rootCA.metadata?.managedFields?.map((f) => f.manager)).toEqual(['kube-controller-manager']);
  expect(rootCA.data?.['ca.crt']).toBe(readFileSync(join(controlPlane().dir, 'pki', 'apiserver.crt'), 'utf8'));
});

test('a Deployment gets a ReplicaSet and 3 pods, which the scheduler binds to the only node they may use', async () => {
  await waitForDefaultServiceAccount(core, NS);
  const deployment = await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'web', labels: APP },
      spec: {
        replicas: 3,
        selector: { matchLabels: APP },
        template: {
          metadata: { labels: APP },
          spec: {
            nodeSelector: { [ONLY_HERE.key]: RUN },
            tolerations: [{ ...ONLY_HERE, operator: 'Equal' }],
            containers: [{ name: 'web', image: 'example.invalid/web:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          },
        },
      },
    },
  });

  const [rs] = await eventually('one ReplicaSet', async () => ((await replicaSets()).length === 1 ? replicaSets() : undefined));
  expect(ownerOf(rs!)).toMatchObject({ kind: 'Deployment', name: 'web', uid: deployment.metadata!.uid });
  const bound = await eventually('3 pods bound to the node', async () => {
    const list = await pods();
    return list.length === 3 && list.every((p) => p.spec?.nodeName) ? list : undefined;
  });
  for (const p of bound) {
    expect(ownerOf(p)).toMatchObject({ kind: 'ReplicaSet', uid: rs!.metadata!.uid });
    expect(p.spec!.nodeName).toBe(NODE);
    expect(p.spec!.serviceAccountName).toBe('default');
  }
  const scheduled = await eventually('PodScheduled conditions', async () => {
    const list = await pods();
    return list.every((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True')) ? list : undefined;
  });
  expect(scheduled).toHaveLength(3);
  const status = await eventually('the Deployment to count 3 replicas', async () => {
    const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
    return d.status?.replicas === 3 ? d.status : undefined;
  });
  expect(status.readyReplicas ?? 0).toBe(0); // no kubelet runs them
});

test('a Service gets an EndpointSlice that follows its pods', async () => {
  await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web' }, spec: { selector: APP, ports: [{ port: 80 }] } } });
  const slices = async () => (await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' })).items;
  const [slice] = await eventually('an EndpointSlice', async () => ((await slices()).length > 0 ? slices() : undefined));
  expect(slice!.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');

  // Play the kubelet for one pod: once it reports an address and Ready, the slice lists it.
  const [first] = await pods();
  const now = new Date();
  await core.patchNamespacedPodStatus(
    {
      namespace: NS,
      name: first!.metadata!.name!,
      body: {
        status: {
          phase: 'Running',
          podIP: POD_IP,
          podIPs: [{ ip: POD_IP }],
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  const endpoint = await eventually('the pod in the EndpointSlice', async () =>
    (await slices()).flatMap((s) => s.endpoints ?? []).find((e) => e.targetRef?.name === first!.metadata!.name),
  );
  expect(endpoint).toMatchObject({ addresses: [POD_IP], nodeName: NODE, conditions: { ready: true } });
});

test('deleting the Deployment garbage-collects its ReplicaSet and pods', async () => {
  const before = await pods();
  expect(before).toHaveLength(3);
  await apps.deleteNamespacedDeployment({ namespace: NS, name: 'web', propagationPolicy: 'Background' });
  await eventually('the ReplicaSet to go', async () => ((await replicaSets()).length === 0 ? true : undefined));
  // Pods bound to a node end gracefully: deletionTimestamp set, then the kubelet
  // would confirm. There is none, so each pod is gone or terminating.
  const left = await eventually('every pod to be deleted or terminating', async () => {
    const list = await pods();
    return list.every((p) => p.metadata?.deletionTimestamp) ? list : undefined;
  });
  expect(left.every((p) => before.some((b) => b.metadata!.uid === p.metadata!.uid))).toBe(true); // no replacements
});
