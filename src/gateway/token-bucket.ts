/**
 * A token bucket as Amazon API Gateway describes its throttling: the bucket holds at most
 * `capacity` tokens (the burstLimit), refills continuously at `ratePerSec` tokens per second
 * (the rateLimit) and starts full. Each request takes one token; an empty bucket means 429.
 *
 * No clock inside: every call gets the current time in milliseconds, so tests drive it with a
 * fake clock and the server with performance.now() (monotonic, unaffected by NTP steps).
 *
 *   tokens(t) = min(capacity, tokens(t0) + (t - t0) * ratePerSec / 1000)
 *
 * From idle, a client can therefore take `capacity` requests at once, then one every
 * 1000 / ratePerSec ms; over a window of W ms at most capacity + W * ratePerSec / 1000 pass.
 */
export class TokenBucket {
  /** Tokens per millisecond, precomputed so refill is one multiply. */
  private readonly ratePerMs: number;
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    readonly ratePerSec: number,
    readonly capacity: number,
    startMs: number,
  ) {
    if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec))
      throw new RangeError(`ratePerSec must be a positive finite number, got ${ratePerSec}`);
    if (!(capacity >= 1) || !Number.isFinite(capacity)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
    this.ratePerMs = ratePerSec / 1000;
    this.tokens = capacity;
    this.lastRefillMs = startMs;
  }

  /** Takes one token if there is one. Returns false (and takes nothing) when the bucket is empty. */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    // Fractional refill accumulates rounding error (0.1 + 0.2 ...): a token that is 1e-9 short
    // is a whole token, otherwise a request paced exactly at the rate could be refused.
    if (this.tokens < 1 - TOKEN_EPSILON) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Tokens available at `nowMs` (fractional), without taking any. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** True when the bucket is back to capacity: an idle bucket that can be forgotten. */
  isFull(nowMs: number): boolean {
    return this.available(nowMs) >= this.capacity;
  }

  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.lastRefillMs;
    // A clock that goes backwards (it should not: callers pass a monotonic clock) adds nothing.
    if (elapsedMs <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedMs * this.ratePerMs);
    this.lastRefillMs = nowMs;
  }
}

const TOKEN_EPSILON = 1e-9;
