import { FakeClock } from './clock.js';

describe('FakeClock', () => {
  test('fires due timers in time order, with now() at each timer, and skips cleared ones', async () => {
    const c = new FakeClock(100);
    const fired: [string, number][] = [];
    c.setTimeout(() => fired.push(['b', c.now()]), 20);
    c.setTimeout(() => fired.push(['a', c.now()]), 10);
    const cleared = c.setTimeout(() => fired.push(['x', c.now()]), 15);
    c.clearTimeout(cleared);
    // A timer set by a timer fires in the same advance when due.
    c.setTimeout(() => c.setTimeout(() => fired.push(['nested', c.now()]), 5), 12);
    await c.advance(15);
    expect(fired).toEqual([['a', 110]]);
    expect(c.now()).toBe(115);
    await c.advance(100);
    expect(fired).toEqual([['a', 110], ['nested', 117], ['b', 120]]);
    expect(c.pending()).toBe(0);
  });
});
