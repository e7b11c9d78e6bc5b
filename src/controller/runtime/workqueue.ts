// A rate-limited work queue in the style of client-go's: level-triggered
// (a key means "look at this object again", not "this event happened"), one
// worker per key at a time, and failed keys retried with per-key exponential
// backoff.
import type { Registry } from 'prom-client';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { workQueueMetrics, type WorkQueueMetrics } from './metrics.js';

/** What a handler returns: `{}` when done, or when to look at the key again. */
export interface Result {
  requeueAfter?: number;
}

export type Handler<K extends string> = (key: K) => Promise<Result>;

export interface WorkQueueOptions {
  /** Label of the queue's metrics. */
  name: string;
  registry?: Registry;
  clock?: Clock;
  /** First retry delay of a failing key; doubles per failure. Default 50 ms. */
  baseDelayMs?: number;
  /** Cap of the retry delay. Default 5 min. */
  maxDelayMs?: number;
  /** Told about every handler error (the key is retried with backoff regardless). */
  onError?: (key: string, err: unknown) => void;
}

interface Delayed {
  at: number;
  timer: TimerHandle;
}

export class WorkQueue<K extends string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onError: ((key: string, err: unknown) => void) | undefined;
  private readonly metrics: WorkQueueMetrics | undefined;
  private readonly collect = (): void => this.updateLongestRunning();

  /** Keys ready for a worker, in order. */
  private readonly queue: K[] = [];
  /** Keys that need processing: queued, or re-added while being processed. */
  private readonly dirty = new Set<K>();
  /** Keys a worker holds, with the time it started. */
  private readonly processing = new Map<K, number>();
  private readonly delayed = new Map<K, Delayed>();
  private readonly failures = new Map<K, number>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? 50;
    this.maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
    this.onError = opts.onError;
    this.metrics = opts.registry ? workQueueMetrics(opts.registry) : undefined;
    this.metrics?.depth.set({ name: this.name }, 0);
    this.metrics?.onCollect.add(this.collect);
  }

  /** Marks the key for processing. A key already waiting is not queued twice. */
  add(key: K): void {
    if (this.shuttingDown) return;
    this.metrics?.adds.inc({ name: this.name });
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    // A key being processed goes back in the queue when its worker is done.
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after `ms`. Several delayed adds of one key collapse to the earliest. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.at <= at) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Adds the key after its backoff: base · 2^failures, capped. */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics?.retries.inc({ name: this.name });
    this.addAfter(key, this.backoff(n));
  }

  /** The delay the next `addRateLimited(key)` will use. */
  nextBackoff(key: K): number {
    return this.backoff(this.failures.get(key) ?? 0);
  }

  /** Resets the key's backoff (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Failures since the last `forget`. */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting for a worker (not counting delayed ones or those in progress). */
  len(): number {
    return this.queue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Starts `workers` loops that hand keys to `handler`. Resolves when the
   * queue has shut down and every loop has finished its current key.
   */
  async run(workers: number, handler: Handler<K>): Promise<void> {
    const loops: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) loops.push(this.worker(handler));
    await Promise.all(loops);
  }

  /**
   * Stops taking work: adds are ignored, delayed adds are dropped, idle workers
   * exit, and busy ones exit after their current key. Resolves when no handler
   * is running any more.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.timer);
    this.delayed.clear();
    this.metrics?.onCollect.delete(this.collect);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private backoff(failures: number): number {
    // 2^failures overflows to Infinity long before it matters; min() caps it.
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  private push(key: K): void {
    this.queue.push(key);
    this.metrics?.depth.set({ name: this.name }, this.queue.length);
    this.waiters.shift()?.();
  }

  /** The next key, or undefined once shutting down. */
  private async get(): Promise<K | undefined> {
    while (!this.shuttingDown) {
      const key = this.queue.shift();
      if (key !== undefined) {
        this.metrics?.depth.set({ name: this.name }, this.queue.length);
        this.dirty.delete(key);
        this.processing.set(key, this.clock.now());
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }

  private done(key: K): void {
    const started = this.processing.get(key) ?? this.clock.now();
    this.processing.delete(key);
    this.metrics?.workDuration.observe({ name: this.name }, (this.clock.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0 && this.shuttingDown) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
    }
  }

  private async worker(handler: Handler<K>): Promise<void> {
    for (;;) {
      const key = await this.get();
      if (key === undefined) return;
      try {
        // Tolerates handlers written in plain JS that return nothing.
        const result: Result = (await handler(key)) ?? {};
        this.forget(key);
        if (result.requeueAfter !== undefined && result.requeueAfter > 0) this.addAfter(key, result.requeueAfter);
      } catch (err) {
        this.addRateLimited(key);
        try {
          this.onError?.(key, err);
        } catch {
          // A failing error callback must not kill the worker.
        }
      } finally {
        this.done(key);
      }
    }
  }

  private updateLongestRunning(): void {
    let oldest = Infinity;
    for (const started of this.processing.values()) oldest = Math.min(oldest, started);
    const seconds = oldest === Infinity ? 0 : (this.clock.now() - oldest) / 1000;
    this.metrics?.longestRunning.set({ name: this.name }, seconds);
  }
}
