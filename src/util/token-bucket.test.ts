import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  test('burst first, then the rate', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, true, false]);
    expect(b.tryTake(99)).toBe(false);
    expect(b.tryTake(100)).toBe(true);
  });

  test('reservations queue: each waiter gets the next token in turn', () => {
    const b = new TokenBucket(10, 1, 0);
    expect([0, 1, 2, 3].map(() => b.reserve(0))).toEqual([0, 100, 200, 300]);
  });

  test('slows down on throttling and recovers additively, never above the configured rate', () => {
    const b = new TokenBucket(20, 1, 0);
    b.slowDown(0);
    b.slowDown(500); // the same burst of refusals: once
    expect(b.rate).toBe(10);
    b.slowDown(1000);
    expect(b.rate).toBe(5);
    b.recover(1000);
    expect(b.rate).toBe(6);
    for (let i = 0; i < 100; i++) b.recover(1000);
    expect(b.rate).toBe(20);
    for (let i = 0; i < 20; i++) b.slowDown(2000 + i * 1000);
    expect(b.rate).toBe(20 / 32);
  });

  test('rejects nonsense', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow('invalid token bucket');
  });
});
