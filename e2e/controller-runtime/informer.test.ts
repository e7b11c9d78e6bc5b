// Informers against the real API server: event order, bursts, watch failures
// (cut connections, refused reconnects), 410 Gone and selectors.
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { API_VERSION, GROUP, VERSION, type NodeNetwork } from '../../src/api/index.js';
import { Informer, customInformer, nodeInformer, type ObjectList } from '../../src/controller/runtime/informer.js';
import { WorkQueue } from '../../src/controller/runtime/workqueue.js';
import { Resources, kubeConfig } from '../harness/cluster.js';
import { TcpProxy, eventually } from './tcp-proxy.js';

const admin = new Resources('admin');
const run = randomBytes(3).toString('hex');

function nodeNetwork(name: string, labels: Record<string, string>): object {
  return { apiVersion: API_VERSION, kind: 'NodeNetwork', metadata: { name, labels }, spec: { datapath: 'veth' } };
}

const seq = (nn: NodeNetwork | undefined) => nn?.metadata.annotations?.seq;
const setSeq = (name: string, n: number) => admin.mergePatch('nodenetworks', name, { metadata: { annotations: { seq: String(n) } } });

/** Records every handler call as "verb name seq". */
function record(inf: Informer<NodeNetwork>): string[] {
  const events: string[] = [];
  inf.on('add', (o) => events.push(`add ${o.metadata.name} ${seq(o) ?? '-'}`));
  inf.on('update', (o, old) => events.push(`update ${o.metadata.name} ${seq(old) ?? '-'}->${seq(o) ?? '-'}`));
  inf.on('delete', (o) => events.push(`delete ${o.metadata.name} ${seq(o) ?? '-'}`));
  return events;
}

describe('Informer', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
  });

  function started(inf: Informer<NodeNetwork>): Informer<NodeNetwork> {
    cleanup.push(() => inf.stop());
    inf.start();
    return inf;
  }

  async function created(name: string, labels: Record<string, string>): Promise<void> {
    await admin.create('nodenetworks', nodeNetwork(name, labels));
    cleanup.push(() => admin.delete('nodenetworks', name));
  }

  test('sees creates, updates and deletes in order, with the old object on update', async () => {
    const label = { test: `order-${run}` };
    await created(`order-pre-${run}`, label);
    const inf = started(customInformer<NodeNetwork>(kubeConfig('controller'), 'nodenetworks', { labelSelector: `test=order-${run}` }));
    const events = record(inf);
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(events).toEqual([`add order-pre-${run} -`]);
    const name = `order-${run}`;
    await admin.create('nodenetworks', nodeNetwork(name, label));
    await setSeq(name, 1);
    await setSeq(name, 2);
    await admin.delete('nodenetworks', name);
    await eventually(() => expect(events).toHaveLength(5));
    expect(events.slice(1)).toEqual([`add ${name} -`, `update ${name} -->1`, `update ${name} 1->2`, `delete ${name} 2`]);
    expect(inf.get(name)).toBeUndefined();
    expect(inf.list().map((o) => o.metadata.name)).toEqual([`order-pre-${run}`]);
  });

  test('after a burst of 50 updates the handler and the cache hold the final state', async () => {
    const name = `burst-${run}`;
    await created(name, { test: `burst-${run}` });
    const inf = started(customInformer<NodeNetwork>(kubeConfig('controller'), 'nodenetworks', { fieldSelector: `metadata.name=${name}` }));
    // The intended use: handlers only enqueue keys; the worker reads the cache.
    const queue = new WorkQueue<string>({ name: 'burst' });
    cleanup.push(() => queue.shutdown());
    inf.on('add', (o) => queue.add(o.metadata.name!));
    inf.on('update', (o) => queue.add(o.metadata.name!));
    let lastHandlerSeq: string | undefined;
    inf.on('update', (o) => (lastHandlerSeq = seq(o)));
    let reconciles = 0;
    let lastReconciledSeq: string | undefined;
    void queue.run(1, async (key) => {
      reconciles++;
      lastReconciledSeq = seq(inf.get(key));
      await new Promise((r) => setTimeout(r, 20));
      return {};
    });
    await inf.waitForSync();
    await Promise.all(Array.from({ length: 50 }, (_, i) => i + 1).map(async (n) => setSeq(name, n)));
    // Concurrent patches land in any order; read back which one won.
    const final = seq(await admin.get<NodeNetwork>('nodenetworks', name));
    await eventually(() => {
      expect(seq(inf.get(name))).toBe(final);
      expect(lastHandlerSeq).toBe(final);
      expect(lastReconciledSeq).toBe(final);
    });
    // Level-triggered: far fewer reconciles than events, none of them stale at the end.
    expect(reconciles).toBeLessThan(51);
  });

  test('a cut connection and refused reconnects lose no event; the watch resumes without a relist', async () => {
    const label = `test=restart-${run}`;
    const labels = { test: `restart-${run}` };
    for (const n of ['a', 'c']) await created(`restart-${n}-${run}`, labels);
    const { proxy, kubeConfig: viaProxy } = await TcpProxy.forKubeConfig(kubeConfig('controller'));
    cleanup.push(() => proxy.close());
    const errors: unknown[] = [];
    const inf = started(customInformer<NodeNetwork>(viaProxy, 'nodenetworks', { labelSelector: label, restartBackoff: { initialMs: 100, maxMs: 400 }, onError: (e) => errors.push(e) }));
    const events = record(inf);
    await inf.waitForSync();
    await eventually(() => expect(proxy.connections()).toBeGreaterThan(0));
    expect(inf.stats.lists).toBe(1);

    proxy.setAccepting(false);
    proxy.dropAll();
    // Changes while the informer cannot reach the API server.
    await created(`restart-b-${run}`, labels);
    await setSeq(`restart-a-${run}`, 7);
    await admin.delete('nodenetworks', `restart-c-${run}`);
    // Let it fail to reconnect a few times (ListWatch alone would have given up at the first).
    await eventually(() => expect(inf.stats.restarts).toBeGreaterThanOrEqual(2));
    proxy.setAccepting(true);

    await eventually(() => expect(events).toHaveLength(5));
    expect(events.slice(2)).toEqual([`add restart-b-${run} -`, `update restart-a-${run} -->7`, `delete restart-c-${run} -`]);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual([`restart-a-${run}`, `restart-b-${run}`]);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    // Resumed from the last resourceVersion: no second list.
    expect(inf.stats.lists).toBe(1);
    // And keeps watching after the restart.
    await setSeq(`restart-b-${run}`, 8);
    await eventually(() => expect(seq(inf.get(`restart-b-${run}`))).toBe('8'));
  });

  test('client-node 2.0.1 ListWatch alone gives up after a connection error (why Informer restarts it)', async () => {
    const name = `raw-${run}`;
    await created(name, { test: `raw-${run}` });
    const { proxy, kubeConfig: viaProxy } = await TcpProxy.forKubeConfig(kubeConfig('controller'));
    cleanup.push(() => proxy.close());
    const api = viaProxy.makeApiClient(k8s.CustomObjectsApi);
    const lw = new k8s.ListWatch<k8s.KubernetesObject>(
      `/apis/${GROUP}/${VERSION}/nodenetworks`,
      new k8s.Watch(viaProxy),
      () => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'nodenetworks', fieldSelector: `metadata.name=${name}` }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
      false,
      undefined,
      `metadata.name=${name}`,
    );
    cleanup.push(() => lw.stop());
    const errors: unknown[] = [];
    lw.on(k8s.ERROR, (e) => errors.push(e));
    await lw.start();
    expect(lw.get(name)).toBeDefined();
    proxy.setAccepting(false);
    proxy.dropAll();
    await eventually(() => expect(errors.length).toBeGreaterThan(0));
    proxy.setAccepting(true);
    await setSeq(name, 1);
    await new Promise((r) => setTimeout(r, 2_000));
    // Still the old object: nothing reconnected.
    expect((lw.get(name) as NodeNetwork).metadata.annotations?.seq).toBeUndefined();
    expect(proxy.connections()).toBe(0);
  });

  test('on 410 Gone it relists, dropping objects deleted meanwhile', async () => {
    const labels = { test: `gone-${run}` };
    await created(`gone-kept-${run}`, labels);
    const api = kubeConfig('controller').makeApiClient(k8s.CustomObjectsApi);
    let calls = 0;
    // The first list answers as if the informer had been away for long: an
    // object since deleted, and a resourceVersion the server no longer keeps.
    const inf = started(
      new Informer<NodeNetwork>({
        kubeConfig: kubeConfig('controller'),
        path: `/apis/${GROUP}/${VERSION}/nodenetworks`,
        labelSelector: `test=gone-${run}`,
        list: async (s) => {
          const list = (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'nodenetworks', ...s })) as ObjectList<NodeNetwork>;
          if (calls++ > 0) return list;
          const ghost = nodeNetwork(`gone-ghost-${run}`, labels) as NodeNetwork;
          ghost.metadata.resourceVersion = '1';
          return { metadata: { resourceVersion: '1' }, items: [...list.items, ghost] };
        },
      }),
    );
    const events = record(inf);
    await inf.waitForSync();
    await eventually(() => expect(inf.stats.lists).toBe(2));
    await eventually(() => expect(events).toContain(`delete gone-ghost-${run} -`));
    expect(inf.list().map((o) => o.metadata.name)).toEqual([`gone-kept-${run}`]);
    expect(Number(inf.resourceVersion())).toBeGreaterThan(1);
    // The new watch works.
    await setSeq(`gone-kept-${run}`, 3);
    await eventually(() => expect(seq(inf.get(`gone-kept-${run}`))).toBe('3'));
    expect(inf.stats.restarts).toBe(0);
  });

  test('a field selector restricts the cache (the agent watches only its own NodeNetwork)', async () => {
    const mine = `fs-mine-${run}`;
    const other = `fs-other-${run}`;
    await created(mine, {});
    await created(other, {});
    const agent = kubeConfig('agent');
    const inf = started(customInformer<NodeNetwork>(agent, 'nodenetworks', { fieldSelector: `metadata.name=${mine}` }));
    const events = record(inf);
    await inf.waitForSync();
    await setSeq(other, 1);
    await setSeq(mine, 1);
    await eventually(() => expect(events).toEqual([`add ${mine} -`, `update ${mine} -->1`]));
    expect(inf.list().map((o) => o.metadata.name)).toEqual([mine]);
    expect(inf.get(other)).toBeUndefined();
  });

  test('core resources: a node informer with a label selector', async () => {
    const core = kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
    const name = `node-${run}`;
    await core.createNode({ body: { metadata: { name, labels: { test: `node-${run}` } } } });
    cleanup.push(() => core.deleteNode({ name }));
    const inf = nodeInformer(kubeConfig('controller'), { labelSelector: `test=node-${run}` });
    cleanup.push(() => inf.stop());
    inf.start();
    await inf.waitForSync();
    expect(inf.list().map((n) => n.metadata?.name)).toEqual([name]);
    await core.deleteNode({ name });
    await eventually(() => expect(inf.get(name)).toBeUndefined());
  });

  test('waitForSync rejects when stopped first or aborted', async () => {
    const { proxy, kubeConfig: viaProxy } = await TcpProxy.forKubeConfig(kubeConfig('controller'));
    cleanup.push(() => proxy.close());
    proxy.setAccepting(false);
    const inf = customInformer<NodeNetwork>(viaProxy, 'nodenetworks');
    inf.start();
    const aborted = new AbortController();
    const waitAborted = inf.waitForSync(aborted.signal);
    aborted.abort();
    await expect(waitAborted).rejects.toThrow(/aborted/);
    const waitStopped = inf.waitForSync();
    await inf.stop();
    await expect(waitStopped).rejects.toThrow(/stopped before it synced/);
    expect(inf.hasSynced()).toBe(false);
  });
});
