// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
// candidates try to take or renew the lease every retry period with
// optimistic concurrency (resourceVersion); a holder that has not renewed for
// leaseDuration (as observed locally) may be replaced; a leader that cannot
// renew within renewDeadline, or sees another holder, steps down.
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { decide, observe, released, type LeaseRecord, type Observation } from './lease-record.js';
import { leaderGauge } from './metrics.js';

export interface LeaderElectorOptions {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
  /** Lease name, e.g. eni-operator-controller. */
  name: string;
  /** Unique per replica, e.g. the pod name plus a random suffix. */
  identity: string;
  /** How long a lease is valid without renewal. Default 10 s. */
  leaseDurationMs?: number;
  /** A leader that has not renewed for this long steps down. Default 8 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  registry?: Registry;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once leadership ends (lost, stopped or released). */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes ('' when nobody holds the lease). */
  onNewLeader?: (identity: string) => void;
  /** Told about failed API calls (the elector retries regardless). */
  onError?: (err: unknown) => void;
}

type Attempt = 'held' | 'other' | 'failed';

export class LeaderElector {
  readonly identity: string;
  private readonly opts: LeaderElectorOptions;
  private readonly api: k8s.CoordinationV1Api;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private leadership: AbortController | undefined;
  private lastRenew = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private observed: Observation | undefined;
  private observedHolder = '';
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.identity = opts.identity;
    this.api = opts.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    // The Lease holds whole seconds.
    this.leaseDurationSeconds = Math.max(1, Math.ceil((opts.leaseDurationMs ?? 10_000) / 1000));
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 8_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000) throw new Error('renewDeadline must be shorter than leaseDuration');
    if (this.retryPeriodMs >= this.renewDeadlineMs) throw new Error('retryPeriod must be shorter than renewDeadline');
    this.gauge(0);
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.running) throw new Error('leader elector already started');
    this.running = this.campaign();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the lease ('' when nobody holds it). */
  currentLeader(): string {
    return this.observedHolder;
  }

  /** Stops campaigning and, when leading, stops leading without touching the lease (as a crash would). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.stepDown();
  }

  /** Stops campaigning and, when leading, hands the lease back so a standby takes over at once. */
  async release(): Promise<void> {
    const wasLeading = this.leading;
    await this.stop();
    if (!wasLeading) return;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
      const record = toRecord(lease.spec);
      if (record.holderIdentity !== this.identity) return;
      lease.spec = toSpec(released(record, Date.now()));
      await this.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
    } catch (err) {
      // The lease then expires on its own; standbys just wait longer.
      this.report(err);
    }
  }

  private async campaign(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const result = await this.attempt();
      if (this.stopping.signal.aborted) break;
      if (result === 'held') {
        this.renewed();
        if (!this.leading) this.stepUp();
      } else if (this.leading && result === 'other') {
        // Someone else holds the lease now: leading on would make two leaders.
        this.stepDown();
      }
      // Candidates add a little jitter so standbys do not hit the API in lockstep.
      const wait = this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * 0.2);
      await sleep(wait, this.stopping.signal);
    }
  }

  /** One try to acquire or renew, bounded by renewDeadline so a hung request cannot stall the loop. */
  private async attempt(): Promise<Attempt> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Attempt>((resolve) => {
      timer = setTimeout(() => resolve('failed'), this.renewDeadlineMs);
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { name, namespace } = this.opts;
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404)) {
        this.report(err);
        return 'failed';
      }
      const now = Date.now();
      const record: LeaseRecord = { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationSeconds, acquireTime: new Date(now), renewTime: new Date(now), leaseTransitions: 0 };
      try {
        await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } });
      } catch (createErr) {
        this.report(createErr); // 409: another candidate created it first.
        return 'failed';
      }
      this.seen(record, now);
      return 'held';
    }
    const now = Date.now();
    const current = toRecord(lease.spec);
    this.seen(current, now);
    const decision = decide(current, this.observed!, this.identity, now, this.leaseDurationSeconds);
    if (decision.action === 'wait') return 'other';
    lease.spec = toSpec(decision.record);
    try {
      // Carries metadata.resourceVersion: fails with 409 if anyone wrote since our read.
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      this.report(err);
      return 'failed';
    }
    this.seen(decision.record, now);
    return 'held';
  }

  private seen(record: LeaseRecord, now: number): void {
    this.observed = observe(this.observed, record, now);
    const holder = record.holderIdentity ?? '';
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.opts.onNewLeader?.(holder);
    }
  }

  private renewed(): void {
    this.lastRenew = Date.now();
    clearTimeout(this.deadlineTimer);
    // A timer, not a check in the loop: the loop may be stuck in a request.
    this.deadlineTimer = setTimeout(() => this.stepDown(), this.renewDeadlineMs);
  }

  private stepUp(): void {
    this.leading = true;
    this.leadership = new AbortController();
    this.gauge(1);
    const signal = this.leadership.signal;
    Promise.resolve()
      .then(() => this.opts.onStartedLeading(signal))
      .catch((err: unknown) => this.report(err));
  }

  private stepDown(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    if (!this.leading) return;
    this.leading = false;
    this.gauge(0);
    this.leadership?.abort(new Error('leadership lost'));
    this.leadership = undefined;
    try {
      this.opts.onStoppedLeading?.();
    } catch (err) {
      this.report(err);
    }
  }

  private gauge(value: 0 | 1): void {
    if (this.opts.registry) leaderGauge(this.opts.registry).set({ identity: this.identity }, value);
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // Reporting is best effort.
    }
  }
}

function toDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = new Date(value as string | Date);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function toRecord(spec: k8s.V1LeaseSpec | undefined): LeaseRecord {
  return {
    holderIdentity: spec?.holderIdentity || undefined,
    leaseDurationSeconds: spec?.leaseDurationSeconds,
    acquireTime: toDate(spec?.acquireTime),
    renewTime: toDate(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions,
  };
}

function toSpec(r: LeaseRecord): k8s.V1LeaseSpec {
  // MicroTime must carry six fractional digits; V1MicroTime serializes so.
  const micro = (d: Date | undefined) => (d ? new k8s.V1MicroTime(d.getTime()) : undefined);
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: micro(r.acquireTime),
    renewTime: micro(r.renewTime),
    leaseTransitions: r.leaseTransitions,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
