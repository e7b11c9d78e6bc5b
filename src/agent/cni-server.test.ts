// Pure parts of the CNI server; the socket itself is exercised in e2e/cni.
import { httpStatusFor, KeyedLimiter } from './cni-server.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

test('one task per key at a time, in arrival order; other keys run alongside', async () => {
  const limiter = new KeyedLimiter(8, 100);
  const log: string[] = [];
  const gateA1 = deferred();
  const a1 = limiter.run('a', async () => {
    log.push('a1 start');
    await gateA1.promise;
    log.push('a1 end');
  });
  const a2 = limiter.run('a', () => Promise.resolve(log.push('a2')));
  const b1 = limiter.run('b', () => Promise.resolve(log.push('b1')));
  await b1;
  await tick();
  expect(log).toEqual(['a1 start', 'b1']);
  expect(limiter.waiting).toBe(1);
  gateA1.resolve();
  await Promise.all([a1, a2]);
  expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  await tick();
  expect(limiter.keys).toBe(0);
});

test('a failed task does not block the next one of its key', async () => {
  const limiter = new KeyedLimiter(1, 100);
  const failed = limiter.run('a', () => Promise.reject(new Error('boom')));
  const next = limiter.run('a', () => Promise.resolve('ran'));
  await expect(failed).rejects.toThrow('boom');
  await expect(next).resolves.toBe('ran');
});

test('at most `limit` tasks run at once; `full` once maxWaiting wait', async () => {
  const limiter = new KeyedLimiter(2, 3);
  const gate = deferred();
  let running = 0;
  let peak = 0;
  const tasks = Array.from({ length: 5 }, (_, i) =>
    limiter.run(`k${i}`, async () => {
      peak = Math.max(peak, ++running);
      await gate.promise;
      running--;
    }),
  );
  await tick();
  expect(limiter.active).toBe(2);
  expect(limiter.waiting).toBe(3);
  expect(limiter.full).toBe(true);
  gate.resolve();
  await Promise.all(tasks);
  expect(peak).toBe(2);
  expect([limiter.active, limiter.waiting, limiter.full]).toEqual([0, 0, false]);
  expect(() => new KeyedLimiter(0, 1)).toThrow(/at least 1/);
});

test('HTTP statuses follow the CNI code', () => {
  expect([1, 4, 7].map(httpStatusFor)).toEqual([400, 400, 400]);
  expect([11, 50, 51].map(httpStatusFor)).toEqual([503, 503, 503]);
  expect([100, 101, 999].map(httpStatusFor)).toEqual([500, 500, 500]);
});
