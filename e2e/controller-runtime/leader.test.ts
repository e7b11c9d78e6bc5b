// Leader election between replicas against the real API server, with the
// controller's own identity (RBAC: leases get/create/update).
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { DEFAULT_NAMESPACE } from '../../src/api/rbac.js';
import { LeaderElector, type LeaderElectorOptions } from '../../src/controller/runtime/leader.js';
import { kubeConfig } from '../harness/cluster.js';
import { TcpProxy, eventually } from './tcp-proxy.js';

const FAST = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 300 };
const namespace = DEFAULT_NAMESPACE;
const leases = kubeConfig('admin').makeApiClient(k8s.CoordinationV1Api);

interface Replica {
  elector: LeaderElector;
  started: number;
  stopped: number;
  signals: AbortSignal[];
  registry: Registry;
}

describe('LeaderElector', () => {
  const electors: LeaderElector[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  let lease: string;

  beforeEach(() => {
    lease = `test-${randomBytes(4).toString('hex')}`;
  });

  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop();
    for (const f of cleanup.splice(0)) await f();
  });

  function replica(identity: string, opts: Partial<LeaderElectorOptions> = {}): Replica {
    const registry = new Registry();
    const r: Replica = { started: 0, stopped: 0, signals: [], registry, elector: undefined as unknown as LeaderElector };
    r.elector = new LeaderElector({
      kubeConfig: kubeConfig('controller'),
      namespace,
      name: lease,
      identity,
      registry,
      ...FAST,
      onStartedLeading: (signal) => {
        r.started++;
        r.signals.push(signal);
      },
      onStoppedLeading: () => r.stopped++,
      ...opts,
    });
    electors.push(r.elector);
    r.elector.start();
    return r;
  }

  async function holder(): Promise<string | undefined> {
    return (await leases.readNamespacedLease({ name: lease, namespace })).spec?.holderIdentity;
  }

  async function gauge(r: Replica): Promise<number | undefined> {
    const m = await r.registry.getSingleMetric('eni_operator_leader')!.get();
    return m.values.find((v) => v.labels.identity === r.elector.identity)?.value;
  }

  async function leaderOf(a: Replica, b: Replica): Promise<[Replica, Replica]> {
    await eventually(() => expect(a.elector.isLeader() || b.elector.isLeader()).toBe(true));
    return a.elector.isLeader() ? [a, b] : [b, a];
  }

  test('of two replicas exactly one leads, and the lease and metric say which', async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    const [leader, standby] = await leaderOf(a, b);
    // Several renew periods: never two leaders, never a change.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
      expect(leader.elector.isLeader()).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await holder()).toBe(leader.elector.identity);
    expect(standby.elector.currentLeader()).toBe(leader.elector.identity);
    expect([leader.started, standby.started]).toEqual([1, 0]);
    expect(await gauge(leader)).toBe(1);
    expect(await gauge(standby)).toBe(0);
  });

  test('when the leader dies without releasing, the other takes over after the lease expires', async () => {
    const a = replica('replica-a');
    const [leader, standby] = await leaderOf(a, replica('replica-b'));
    const t0 = Date.now();
    // Stops renewing and leaves the lease as is: what kill -9 looks like to the API server.
    await leader.elector.stop();
    await eventually(() => expect(standby.elector.isLeader()).toBe(true), 15_000, 20);
    const took = Date.now() - t0;
    // Not before the lease could expire, and soon after it did.
    expect(took).toBeGreaterThanOrEqual(FAST.leaseDurationMs - FAST.retryPeriodMs * 2);
    expect(took).toBeLessThan(FAST.leaseDurationMs + FAST.retryPeriodMs * 3 + 500);
    expect(await holder()).toBe(standby.elector.identity);
    const l = await leases.readNamespacedLease({ name: lease, namespace });
    expect(l.spec?.leaseTransitions).toBe(1);
  });

  test('with the default durations a dead leader is replaced within 15 s', async () => {
    const defaults = { leaseDurationMs: undefined, renewDeadlineMs: undefined, retryPeriodMs: undefined };
    const a = replica('replica-a', defaults);
    const [leader, standby] = await leaderOf(a, replica('replica-b', defaults));
    expect((await leases.readNamespacedLease({ name: lease, namespace })).spec?.leaseDurationSeconds).toBe(10);
    const t0 = Date.now();
    await leader.elector.stop();
    await eventually(() => expect(standby.elector.isLeader()).toBe(true), 15_000, 50);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);

  test('a graceful release hands over in about a retry period', async () => {
    const a = replica('replica-a');
    const [leader, standby] = await leaderOf(a, replica('replica-b'));
    const t0 = Date.now();
    await leader.elector.release();
    expect(leader.elector.isLeader()).toBe(false);
    expect(leader.stopped).toBe(1);
    expect(leader.signals[0]!.aborted).toBe(true);
    await eventually(() => expect(standby.elector.isLeader()).toBe(true), 5_000, 10);
    // Well before the 2 s lease could have expired.
    expect(Date.now() - t0).toBeLessThan(FAST.retryPeriodMs * 1.2 + 500);
    expect(await gauge(leader)).toBe(0);
  });

  test('a leader whose lease is taken over steps down at its next renewal', async () => {
    const a = replica('replica-a');
    await eventually(() => expect(a.elector.isLeader()).toBe(true));
    const l = await leases.readNamespacedLease({ name: lease, namespace });
    l.spec!.holderIdentity = 'thief';
    l.spec!.renewTime = new k8s.V1MicroTime(Date.now());
    await leases.replaceNamespacedLease({ name: lease, namespace, body: l });
    const t0 = Date.now();
    await eventually(() => expect(a.elector.isLeader()).toBe(false), 5_000, 10);
    expect(Date.now() - t0).toBeLessThan(FAST.retryPeriodMs + 500);
    expect(a.stopped).toBe(1);
    expect(a.signals[0]!.aborted).toBe(true);
    expect(a.elector.currentLeader()).toBe('thief');
    // The thief never renews: once its lease expires the replica leads again.
    await eventually(() => expect(a.elector.isLeader()).toBe(true), 5_000);
    expect(a.started).toBe(2);
  });

  test('a leader that cannot reach the API server steps down after renewDeadline', async () => {
    const { proxy, kubeConfig: viaProxy } = await TcpProxy.forKubeConfig(kubeConfig('controller'));
    cleanup.push(() => proxy.close());
    const a = replica('replica-a', { kubeConfig: viaProxy });
    await eventually(() => expect(a.elector.isLeader()).toBe(true));
    proxy.setAccepting(false);
    proxy.dropAll();
    const t0 = Date.now();
    await eventually(() => expect(a.elector.isLeader()).toBe(false), 5_000, 10);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(FAST.renewDeadlineMs - FAST.retryPeriodMs - 100);
    expect(took).toBeLessThan(FAST.renewDeadlineMs + 500);
    expect(a.signals[0]!.aborted).toBe(true);
    // The lease still names it: a standby must wait for expiry, as after a crash.
    expect(await holder()).toBe('replica-a');
  });

  test('rejects inconsistent durations', () => {
    const base = { kubeConfig: kubeConfig('controller'), namespace, name: 'x', identity: 'x', onStartedLeading: () => undefined };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 2_000, renewDeadlineMs: 3_000 })).toThrow(/renewDeadline/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 1_000, retryPeriodMs: 1_000 })).toThrow(/retryPeriod/);
  });
});
