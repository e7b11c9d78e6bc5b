// Every cloud API call goes through here: a token bucket per API (slowed down
// while the cloud throttles us), retries with exponential backoff and full
// jitter for transient errors, error classification and metrics.
import type { ProviderType } from '../api/common.js';
import type { CloudMetrics } from '../metrics/cloud.js';
import { TokenBucket } from '../util/token-bucket.js';
import { CloudError, redact } from './errors.js';

export interface RetryPolicy {
  /** Attempts per logical call, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts after this long. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 5000, deadlineMs: 60_000 };

export interface CallerOptions {
  provider: ProviderType;
  qps: number;
  burst: number;
  retry?: Partial<RetryPolicy>;
  /** Turns whatever the SDK threw into a CloudError. */
  classify: (err: unknown, api: string) => CloudError;
  /** Credential values to scrub from any error message. */
  secrets: readonly string[];
  metrics?: CloudMetrics;
  /** Injectable for tests. */
  clock?: { now(): number; sleep(ms: number): Promise<void>; random(): number };
}

const realClock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  random: () => Math.random(),
};

export class CloudCaller {
  readonly retry: RetryPolicy;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly clock;
  /** Attempts made beyond the first, across all calls (for tests and bench). */
  retries = 0;

  constructor(private readonly opts: CallerOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = opts.clock ?? realClock;
  }

  private bucket(api: string): TokenBucket {
    let b = this.buckets.get(api);
    if (!b) this.buckets.set(api, (b = new TokenBucket(this.opts.qps, this.opts.burst, this.clock.now())));
    return b;
  }

  /** Runs one logical API call: `attempt` may be invoked several times. */
  async call<T>(api: string, attempt: () => Promise<T>): Promise<T> {
    const { provider, metrics } = this.opts;
    const started = this.clock.now();
    for (let n = 1; ; n++) {
      const bucket = this.bucket(api);
      const wait = bucket.reserve(this.clock.now());
      metrics?.rateLimitWait.observe({ provider, api }, wait / 1000);
      if (wait > 0) await this.clock.sleep(wait);
      const t0 = this.clock.now();
      let error: CloudError;
      try {
        const result = await attempt();
        metrics?.duration.observe({ provider, api }, (this.clock.now() - t0) / 1000);
        metrics?.requests.inc({ provider, api, code: 'OK' });
        bucket.recover(this.clock.now());
        return result;
      } catch (err) {
        metrics?.duration.observe({ provider, api }, (this.clock.now() - t0) / 1000);
        error = this.scrub(err instanceof CloudError ? err : this.opts.classify(err, api));
      }
      metrics?.requests.inc({ provider, api, code: error.code });
      if (error.kind === 'Throttled') bucket.slowDown(this.clock.now());
      const elapsed = this.clock.now() - started;
      if (!error.transient || n >= this.retry.maxAttempts || elapsed >= this.retry.deadlineMs) throw error;
      this.retries++;
      metrics?.retries.inc({ provider, api, kind: error.kind });
      // Full jitter: spreads the callers that failed together.
      const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (n - 1));
      await this.clock.sleep(Math.floor(this.clock.random() * cap));
    }
  }

  private scrub(err: CloudError): CloudError {
    const message = redact(err.message, this.opts.secrets);
    if (message === err.message) return err;
    const cleaned = new CloudError(err.kind, err.provider, err.api, err.code, message.replace(/^\S+ \S+: \S+: /, ''), err.requestId);
    return cleaned;
  }
}
