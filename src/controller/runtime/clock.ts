// Time as a dependency, so queue and backoff logic can be unit-tested with a
// fake clock instead of real sleeps.

/** What setTimeout returned: a Node Timeout, or a FakeClock number. */
export type TimerHandle = object | number;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A manual clock: timers fire only when `advance` moves time past them, in due order. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    this.timers.set(timer.id, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers not yet fired or cleared. */
  pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers one by one (earliest first)
   * and letting promise continuations run between them.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      let next: FakeTimer | undefined;
      for (const t of this.timers.values()) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = target;
    await settle();
  }
}

/** Lets pending promise continuations (several hops deep) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
