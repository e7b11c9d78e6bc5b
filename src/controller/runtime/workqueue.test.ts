import { Registry } from 'prom-client';
import { FakeClock, settle } from './clock.js';
import { WorkQueue, type Result } from './workqueue.js';

/** A promise the test resolves by hand, to hold a handler mid-flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The metric's value for queue `q` (a histogram's observation count). */
async function metric(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  const histogram = String(m.type) === 'histogram';
  const v = m.values.find((v) => v.labels.name === 'q' && (!histogram || (v as { metricName?: string }).metricName === `${name}_count`));
  return v?.value ?? NaN;
}

describe('WorkQueue', () => {
  let clock: FakeClock;
  let q: WorkQueue<string>;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    clock = new FakeClock(1_000);
    q = new WorkQueue<string>({ name: 'q', clock });
    running = undefined;
  });

  afterEach(async () => {
    await q.shutdown();
    await running;
  });

  test('adding a key many times while it waits processes it once', async () => {
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    const seen: string[] = [];
    running = q.run(1, (k) => {
      seen.push(k);
      return Promise.resolve({});
    });
    await settle();
    expect(seen).toEqual(['a', 'b']);
    expect(q.len()).toBe(0);
  });

  test('a key is never processed by two workers at once, and a re-add during processing runs again after', async () => {
    const g = gate();
    let active = 0;
    let maxActive = 0;
    const seen: string[] = [];
    running = q.run(4, async (k) => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.push(k);
      if (seen.length === 1) await g.promise;
      active--;
      return {};
    });
    q.add('a');
    await settle();
    expect(seen).toEqual(['a']);
    // Re-added while the first run is in its handler: three idle workers must not take it.
    q.add('a');
    q.add('a');
    await settle();
    expect(seen).toEqual(['a']);
    expect(q.len()).toBe(0);
    g.open();
    await settle();
    expect(seen).toEqual(['a', 'a']);
    expect(maxActive).toBe(1);
  });

  test('different keys run in parallel up to the worker count', async () => {
    const g = gate();
    let active = 0;
    let maxActive = 0;
    running = q.run(2, async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await g.promise;
      active--;
      return {};
    });
    for (const k of ['a', 'b', 'c']) q.add(k);
    await settle();
    expect(active).toBe(2);
    expect(q.len()).toBe(1);
    g.open();
    await settle();
    expect(maxActive).toBe(2);
    expect(q.len()).toBe(0);
  });

  test('delayed adds collapse to the earliest', async () => {
    const seen: number[] = [];
    running = q.run(1, () => {
      seen.push(clock.now());
      return Promise.resolve({});
    });
    q.addAfter('a', 5_000);
    q.addAfter('a', 1_000);
    q.addAfter('a', 3_000);
    expect(clock.pending()).toBe(1);
    await clock.advance(999);
    expect(seen).toEqual([]);
    await clock.advance(1);
    expect(seen).toEqual([2_000]);
    await clock.advance(10_000);
    expect(seen).toEqual([2_000]);
  });

  test('addAfter with no delay adds at once', async () => {
    q.addAfter('a', 0);
    expect(q.len()).toBe(1);
    await settle();
  });

  test('a thrown error retries with doubling backoff up to the cap; success forgets', async () => {
    const times: number[] = [];
    const errors: unknown[] = [];
    let failUntil = 6;
    q = new WorkQueue<string>({ name: 'q', clock, baseDelayMs: 50, maxDelayMs: 300, onError: (_k, e) => errors.push(e) });
    running = q.run(1, (k) => {
      times.push(clock.now());
      if (times.length < failUntil) return Promise.reject(new Error(`fail ${k}`));
      return Promise.resolve({});
    });
    q.add('a');
    await clock.advance(10_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([50, 100, 200, 300, 300]);
    expect(errors).toHaveLength(5);
    expect(q.numRequeues('a')).toBe(0);
    // After the success the backoff starts again from the base.
    failUntil = times.length + 2;
    q.add('a');
    await clock.advance(10_000);
    expect(times.at(-1)! - times.at(-2)!).toBe(50);
  });

  test('forget resets the backoff', () => {
    q = new WorkQueue<string>({ name: 'q', clock, baseDelayMs: 10 });
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.numRequeues('a')).toBe(2);
    expect(q.nextBackoff('a')).toBe(40);
    q.forget('a');
    expect(q.nextBackoff('a')).toBe(10);
  });

  test('the default backoff is 50 ms doubling to a cap of 5 minutes', () => {
    for (let i = 0; i < 30; i++) q.addRateLimited('a');
    expect(q.nextBackoff('a')).toBe(300_000);
    q.forget('a');
    expect(q.nextBackoff('a')).toBe(50);
  });

  test('requeueAfter processes the key again after that delay and resets the backoff', async () => {
    const times: number[] = [];
    running = q.run(1, (): Promise<Result> => {
      times.push(clock.now());
      return Promise.resolve(times.length < 3 ? { requeueAfter: 30_000 } : {});
    });
    q.addRateLimited('a');
    await clock.advance(50);
    expect(q.numRequeues('a')).toBe(0);
    await clock.advance(120_000);
    expect(times).toEqual([1_050, 31_050, 61_050]);
  });

  test('shutdown stops taking work and resolves only when in-flight handlers finish', async () => {
    const g = gate();
    const seen: string[] = [];
    running = q.run(1, async (k) => {
      seen.push(k);
      await g.promise;
      return {};
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    await settle();
    let shutDown = false;
    const done = q.shutdown().then(() => (shutDown = true));
    await settle();
    expect(shutDown).toBe(false);
    q.add('d');
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
    g.open();
    await done;
    await running;
    expect(shutDown).toBe(true);
    expect(seen).toEqual(['a']);
    expect(q.isShuttingDown()).toBe(true);
  });

  test('shutdown with nothing running resolves at once and run() returns', async () => {
    running = q.run(3, () => Promise.resolve({}));
    await q.shutdown();
    await expect(running).resolves.toBeUndefined();
  });

  test('metrics: depth, adds, retries, work duration and longest running', async () => {
    const registry = new Registry();
    q = new WorkQueue<string>({ name: 'q', clock, registry });
    // A second queue on the same registry shares the metrics by label.
    const other = new WorkQueue<string>({ name: 'other', clock, registry });
    other.add('x');
    q.add('a');
    q.add('a');
    q.add('b');
    expect(await metric(registry, 'eni_operator_workqueue_depth')).toBe(2);
    expect(await metric(registry, 'eni_operator_workqueue_adds_total')).toBe(3);
    const g = gate();
    running = q.run(1, async (k) => {
      if (k === 'a') {
        await g.promise;
        throw new Error('boom');
      }
      return {};
    });
    await settle();
    await clock.advance(2_000);
    expect(await metric(registry, 'eni_operator_workqueue_longest_running_seconds')).toBe(2);
    g.open();
    await settle();
    expect(await metric(registry, 'eni_operator_workqueue_retries_total')).toBe(1);
    expect(await metric(registry, 'eni_operator_workqueue_work_duration_seconds')).toBe(2);
    expect(await metric(registry, 'eni_operator_workqueue_longest_running_seconds')).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('eni_operator_workqueue_depth{name="other"} 1');
    await other.shutdown();
  });
});
