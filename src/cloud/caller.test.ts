import { CloudCaller } from './caller.js';
import { CloudError, isNetworkError, redact } from './errors.js';

/** Virtual time: sleeping advances the clock at once. */
function fakeClock() {
  const clock = { t: 0, slept: [] as number[], now: () => clock.t, sleep: (ms: number) => ((clock.t += ms), clock.slept.push(ms), Promise.resolve()), random: () => 0.5 };
  return clock;
}

const classify = (err: unknown, api: string) =>
  err instanceof CloudError ? err : new CloudError('Unknown', 'alibaba', api, 'Unknown', String(err));

function caller(clock = fakeClock(), secrets: string[] = []) {
  return { clock, c: new CloudCaller({ provider: 'alibaba', qps: 10, burst: 2, classify, secrets, clock, retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 10_000 } }) };
}

const err = (kind: CloudError['kind'], code: string = kind) => new CloudError(kind, 'alibaba', 'X', code, 'boom');

describe('CloudCaller', () => {
  test('retries transient errors with growing, jittered delays, then succeeds', async () => {
    const { c, clock } = caller();
    let n = 0;
    const result = await c.call('X', () => (++n < 4 ? Promise.reject(err('ServerError')) : Promise.resolve('ok')));
    expect(result).toBe('ok');
    expect(n).toBe(4);
    expect(c.retries).toBe(3);
    // Jitter 0.5 of 100, 200, 400 (the token bucket waits are 0: burst 2, rate 10/s).
    expect(clock.slept.filter((ms) => ms >= 50)).toEqual([50, 100, 200]);
  });

  test('does not retry what retrying cannot fix', async () => {
    for (const kind of ['AuthFailed', 'QuotaExceeded', 'SubnetExhausted', 'NotFound', 'InvalidRequest'] as const) {
      const { c } = caller();
      let n = 0;
      await expect(c.call('X', () => (n++, Promise.reject(err(kind))))).rejects.toMatchObject({ kind });
      expect(n).toBe(1);
    }
  });

  test('gives up after maxAttempts and surfaces the last error', async () => {
    const { c } = caller();
    let n = 0;
    await expect(c.call('X', () => (n++, Promise.reject(err('Throttled', 'Throttling.User'))))).rejects.toMatchObject({ code: 'Throttling.User' });
    expect(n).toBe(5);
  });

  test('throttling halves the rate of that API only', async () => {
    const { c, clock } = caller();
    await c.call('A', () => Promise.resolve(1));
    await c.call('A', () => Promise.resolve(1)); // burst used up
    clock.slept.length = 0;
    let n = 0;
    await c.call('A', () => (++n === 1 ? Promise.reject(err('Throttled')) : Promise.resolve(1)));
    // First attempt waited 100 ms (10/s); after the throttle the retry waits on a 5/s bucket.
    expect(clock.slept[0]).toBe(100);
    expect(clock.slept.at(-1)).toBeGreaterThanOrEqual(150);
    const before = clock.t;
    await c.call('B', () => Promise.resolve(1));
    expect(clock.t).toBe(before); // B has its own full bucket
  });

  test('scrubs credentials from error messages', async () => {
    const { c } = caller(fakeClock(), ['super-secret-key']);
    await expect(c.call('X', () => Promise.reject(new CloudError('AuthFailed', 'alibaba', 'X', 'SignatureDoesNotMatch', 'bad signature for super-secret-key')))).rejects.toThrow(
      'alibaba X: SignatureDoesNotMatch: bad signature for ***',
    );
  });
});

describe('errors', () => {
  test('network errors are recognised through causes', () => {
    expect(isNetworkError(Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isNetworkError(new Error('socket hang up'))).toBe(true);
    expect(isNetworkError(new Error('InvalidParameter'))).toBe(false);
  });

  test('redact replaces every occurrence', () => {
    expect(redact('a s3cret b s3cret', ['s3cret'])).toBe('a *** b ***');
  });
});

describe('CloudCaller metrics', () => {
  test('records requests by code, latency, rate-limit waits and retries', async () => {
    const { CloudMetrics } = await import('../metrics/cloud.js');
    const metrics = new CloudMetrics();
    const clock = fakeClock();
    const c = new CloudCaller({ provider: 'tencent', qps: 10, burst: 1, classify, secrets: [], clock, metrics });
    let n = 0;
    await c.call('AssignPrivateIpAddresses', () => (++n === 1 ? Promise.reject(new CloudError('Throttled', 'tencent', 'AssignPrivateIpAddresses', 'RequestLimitExceeded', 'slow down')) : Promise.resolve(1)));
    const text = await metrics.registry.metrics();
    expect(text).toContain('eni_operator_cloud_requests_total{provider="tencent",api="AssignPrivateIpAddresses",code="RequestLimitExceeded"} 1');
    expect(text).toContain('eni_operator_cloud_requests_total{provider="tencent",api="AssignPrivateIpAddresses",code="OK"} 1');
    expect(text).toContain('eni_operator_cloud_retries_total{provider="tencent",api="AssignPrivateIpAddresses",kind="Throttled"} 1');
    expect(text).toMatch(/eni_operator_cloud_ratelimit_wait_seconds_count\{provider="tencent",api="AssignPrivateIpAddresses"\} 2/);
    expect(text).toMatch(/eni_operator_cloud_request_duration_seconds_count\{provider="tencent",api="AssignPrivateIpAddresses"\} 2/);
  });
});
