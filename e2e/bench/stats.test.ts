import { percentile, summarize } from './stats.js';

test('nearest-rank percentiles', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  expect(percentile(s, 50)).toBe(5);
  expect(percentile(s, 90)).toBe(9);
  expect(percentile(s, 99)).toBe(10);
  expect(summarize([3, 1, 2])).toEqual({ n: 3, min: 1, median: 2, p90: 3, p99: 3, max: 3 });
  expect(() => percentile([], 50)).toThrow('no samples');
});
