// Per-pod serialisation and the node-wide exclusive section.
import { PodLocks } from './lock.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('work on one pod runs in order; different pods overlap; a failure does not block the next', async () => {
  const locks = new PodLocks();
  const log: string[] = [];
  const job = (name: string, ms: number, fail = false) => async () => {
    log.push(`start ${name}`);
    await tick(ms);
    log.push(`end ${name}`);
    if (fail) throw new Error(name);
  };
  const a1 = locks.forPod('a', job('a1', 20, true));
  const a2 = locks.forPod('a', job('a2', 1));
  const b1 = locks.forPod('b', job('b1', 1));
  await expect(a1).rejects.toThrow('a1');
  await Promise.all([a2, b1]);
  expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
  expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
});

test('the node section waits for pod work in flight, and later pod work waits for it', async () => {
  const locks = new PodLocks();
  const log: string[] = [];
  const pod = locks.forPod('a', async () => {
    await tick(20);
    log.push('pod-1');
  });
  const node = locks.forNode(async () => {
    log.push('node-start');
    await tick(20);
    log.push('node-end');
  });
  const later = locks.forPod('b', async () => {
    log.push('pod-2');
    await Promise.resolve();
  });
  await Promise.all([pod, node, later]);
  expect(log).toEqual(['pod-1', 'node-start', 'node-end', 'pod-2']);
});
