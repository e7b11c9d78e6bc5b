// A token bucket with an injectable clock and an adaptive rate. Pure: it only
// does arithmetic on the times it is given, so callers decide whether to wait
// or to refuse.

export class TokenBucket {
  private tokens: number;
  private last: number;
  private current: number;
  private lastDecrease = -Infinity;

  constructor(
    /** The configured rate; the current rate never exceeds it. */
    readonly maxRate: number,
    readonly burst: number,
    now: number,
  ) {
    if (!(maxRate > 0) || !(burst >= 1)) throw new Error(`invalid token bucket: rate ${maxRate}/s, burst ${burst}`);
    this.tokens = burst;
    this.last = now;
    this.current = maxRate;
  }

  /** Tokens per second right now. */
  get rate(): number {
    return this.current;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.current);
      this.last = now;
    }
  }

  /** Takes a token if one is there. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Reserves the next token and returns how many milliseconds the caller must
   * wait before using it (0 if available now). Reservations queue fairly: each
   * caller gets the next token in turn.
   */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.current) * 1000);
  }

  /**
   * Multiplicative decrease, when the server says we are too fast. At most
   * once a second: the calls already in flight when the first refusal came
   * are refused for the same reason and must not halve the rate again.
   */
  slowDown(now: number): void {
    if (now - this.lastDecrease < 1000) return;
    this.lastDecrease = now;
    this.refill(now);
    this.current = Math.max(this.maxRate / 32, this.current / 2);
  }

  /** Additive increase back towards the configured rate, after a success. */
  recover(now: number): void {
    if (this.current >= this.maxRate) return;
    this.refill(now);
    this.current = Math.min(this.maxRate, this.current + this.maxRate / 20);
  }
}
