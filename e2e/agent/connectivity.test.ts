// The whole node side for real: controller, agent, eni-cni and the simulated
// kubelet on the VPC fabric. Pods get VPC addresses from ENIs and talk over
// real TCP and UDP: same node, across nodes and subnets, pod ↔ node, exclusive
// ↔ shared. The fabric drops what leaves through the wrong ENI, so a routing
// mistake fails here.
import type { NodeNetwork } from '../../src/api/nodenetwork.js';
import { Resources } from '../harness/cluster.js';
import { AgentCluster, type ProbeResult } from './kit.js';

let c: AgentCluster;
const cr = new Resources('admin');

beforeAll(async () => {
  // Node 1 in zone i, node 2 in zone j: their pods are in different subnets.
  c = await AgentCluster.start({ scenario: 'agconn', prefix: 'agconn', instances: ['i-bp1simnode000000001', 'i-bp1simnode000000004'] });
}, 120_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

const ok = (results: ProbeResult[]) => results.filter((r) => !r.ok).map((r) => `${r.proto} ${r.target}: ${r.error ?? 'failed'}`);

test('shared and exclusive pods on two nodes get VPC addresses and reach each other, their nodes and across subnets', async () => {
  const [n1, n2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  await Promise.all([c.createPod('a1', n1), c.createPod('a2', n1), c.createPod('b1', n2), c.createPod('x1', n1, true)]);
  const pods = await c.runningPods(['a1', 'a2', 'b1', 'x1'], 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${c.logs()}`);
  });
  const [a1, a2, b1, x1] = pods as [(typeof pods)[0], (typeof pods)[0], (typeof pods)[0], (typeof pods)[0]];

  // Each pod's IP is the one the controller planned, from the ENI the plan names.
  for (const pod of pods) {
    const nn = await cr.get<NodeNetwork>('nodenetworks', pod.spec!.nodeName!);
    const att = nn.spec.attachments?.find((a) => a.podUID === pod.metadata!.uid);
    expect(att?.ip.split('/')[0]).toBe(pod.status!.podIP);
    expect(nn.status?.attachments?.find((s) => s.podUID === pod.metadata!.uid)?.state).toBe('Ready');
  }
  const n1nn = await cr.get<NodeNetwork>('nodenetworks', n1.name);
  expect(n1nn.spec.attachments?.find((a) => a.name === 'x1')?.mode).toBe('exclusive');
  expect(n1nn.status?.capabilities).toMatchObject({ ipvlan: expect.any(Boolean) as boolean, ebpf: expect.any(Boolean) as boolean });
  const ip = (p: typeof a1) => `${p.status!.podIP!}:8080`;

  // Same node, across nodes (and subnets), exclusive ↔ shared, both ways.
  expect(ok(await c.probe(c.podNetns(a1), [ip(a2), ip(b1), ip(x1)]))).toEqual([]);
  expect(ok(await c.probe(c.podNetns(b1), [ip(a1), ip(x1)]))).toEqual([]);
  expect(ok(await c.probe(c.podNetns(x1), [ip(a1), ip(b1)]))).toEqual([]);
  // Node → pods (its own, shared and exclusive, and the other node's), and pods → a node's own listener.
  expect(ok(await c.probe(n1.netns, [ip(a1), ip(x1), ip(b1)]))).toEqual([]);
  expect(ok(await c.probe(n2.netns, [ip(a1), ip(b1)]))).toEqual([]);
  await c.nodeEcho(n1, 9090);
  expect(ok(await c.probe(c.podNetns(a1), [`${n1.primaryIP}:9090`]))).toEqual([]);
  expect(ok(await c.probe(c.podNetns(x1), [`${n1.primaryIP}:9090`]))).toEqual([]);
  expect(ok(await c.probe(c.podNetns(b1), [`${n1.primaryIP}:9090`]))).toEqual([]);
}, 180_000);
