/**
 * Rate limiters as deterministic simulators. Each family below is written from its project's source
 * (the file named on each class), so that, given when each request reached the server, it predicts
 * what the limiter did: refused, or accepted after some delay. Times are epoch ms (the wall clock
 * matters: some limiters align to UTC seconds).
 *
 * A model is a small state machine: decide(t) reads the state (pure), commit(t, accepted) applies a
 * request's outcome. Identification commits the *observed* outcome (one-step-ahead prediction), and when that
 * outcome contradicts the model, commit() moves the state to the nearest one that allows it (a bucket the model
 * thought held 1.3 tokens held just under one; one it thought empty held exactly one) and returns how many
 * requests' worth it had to move it (at least 1). So a rate 0.5% off costs a mismatch each time the drift
 * crosses a request, not a cascade of them after the first, while a model whose volley admits 21 more than the
 * limiter did costs 21. The score stays smooth in the parameters: a coarse grid finds the basin the fine grid
 * then pins down.
 */

/** -1 for a refused request; otherwise the ms the limiter held an accepted request before serving it. */
export type Verdict = number;
export const REFUSED: Verdict = -1;

export interface LimiterModel {
  readonly spec: ModelSpec;
  /** Back to the state of a key that has been idle for long (or never seen). */
  reset(): void;
  /** What the limiter would do with a request arriving at t, given everything committed so far. Pure. */
  decide(t: number): Verdict;
  /**
   * Apply a request that arrived at t and was accepted (or refused), whatever decide() said. Returns 0 when
   * that was the model's own verdict, else the size of the correction in requests (≥ 1; see above).
   */
  commit(t: number, accepted: boolean): number;
}

/**
 * Continuous token bucket, equivalent to GCRA (redis-cell, go-redis/redis_rate, Traefik, Envoy ≥1.31, API Gateway,
 * nginx `limit_req nodelay`): `burst` tokens, refilled at `ratePerSec`; a refused request changes nothing.
 * `coldExtra` = 1: an unseen key admits burst+1 at once (redis-cell's max_burst+1; nginx's new key, whose
 * first request is not charged), later idle periods refill to `burst` only.
 */
export interface TokenBucketSpec {
  family: 'token-bucket';
  ratePerSec: number;
  burst: number;
  coldExtra: 0 | 1;
}

/**
 * varnish-modules vsthrottle (src/vmod_vsthrottle.c): integer tokens; a request adds
 * trunc(elapsed/period · limit) since the last *accepted* request, so the fraction of a token is lost at every
 * accept (under overload it admits fewer than limit/period). `blockMs` > 0: the first refusal locks the key
 * out for that long; while locked out every request is refused, still takes a token if there is one, and
 * moves the refill origin (so nothing refills during the lockout).
 */
export interface IntegerBucketSpec {
  family: 'integer-bucket';
  limit: number;
  periodMs: number;
  blockMs: number;
}

/**
 * nginx limit_req (ngx_http_limit_req_module.c) without `nodelay`: `excess` in thousandths, integer ms;
 * excess' = max(0, excess − rate·ms + 1000), refused when excess' > burst·1000 (state unchanged), else accepted
 * and held (excess' − delay·1000)/rate ms when above `delay` (0 without `delay=`). `freshKey`: the key was never
 * seen (its first request is stored with excess 0: burst+1 from cold).
 */
export interface LeakyBucketSpec {
  family: 'leaky-bucket';
  ratePerSec: number;
  burst: number;
  delay: number;
  freshKey: boolean;
}

/**
 * A timer adds `tokensPerFill` every `fillIntervalMs`, capped at `maxTokens`, at times phaseMs + n·fillIntervalMs
 * (epoch ms). Envoy local_ratelimit ≤1.30 (phase: when Envoy started the timer), and Spring Cloud Gateway's
 * RedisRateLimiter (Lua script: `now` is Redis TIME in whole seconds, so replenishRate tokens arrive on each UTC
 * second: fillIntervalMs 1000, phase 0, alignment 'utc').
 */
export interface TimerRefillSpec {
  family: 'timer-refill';
  tokensPerFill: number;
  fillIntervalMs: number;
  maxTokens: number;
  phaseMs: number;
  alignment: 'utc' | 'free';
}

/**
 * Fixed window of `limit` requests per `windowMs`. 'utc': windows aligned to epoch multiples (Kong).
 * 'first-request': a key's window opens at its first request and, once over, the next request opens a new one
 * (express-rate-limit's MemoryStore `resetTime <= now`, @fastify/rate-limit's LocalStore
 * `iterationStartMs + timeWindow <= now`). Whether refused requests count does not change any outcome
 * (the window ends on time, not on count), so it is not a parameter. `restartOnRefusal` (first-request only):
 * every refused request restarts the key's window with its count kept (@fastify/rate-limit `continueExceeding`:
 * `iterationStartMs = nowInMs` once `current > max`), so a client above the limit is refused until it pauses
 * a whole window.
 */
export interface FixedWindowSpec {
  family: 'fixed-window';
  limit: number;
  windowMs: number;
  alignment: 'utc' | 'first-request';
  restartOnRefusal?: boolean;
}

/**
 * Sliding-window counter (HAProxy src/freq_ctr.c; Cloudflare's formula): count = curr + floor(prev·remain/P)
 * with remain the ms left in the current period; accepted when count + 1 ≤ limit. 'first-request': HAProxy — a
 * period starts at the first counted event after ≥2P without one, otherwise periods follow each other every P
 * (rotation happens only when an event is counted). 'utc': periods aligned to epoch multiples.
 * countsRejected: HAProxy `http_req_rate` (every request, so a client above the limit is locked out) vs
 * `sc-inc-gpc0 unless over` (accepted ones only; that reads before counting, i.e. limit = its threshold + 1).
 */
export interface SlidingWindowSpec {
  family: 'sliding-window';
  limit: number;
  windowMs: number;
  countsRejected: boolean;
  alignment: 'utc' | 'first-request';
}

export type ModelSpec = TokenBucketSpec | IntegerBucketSpec | LeakyBucketSpec | TimerRefillSpec | FixedWindowSpec | SlidingWindowSpec;
export type ModelFamily = ModelSpec['family'];

const EPS = 1e-9;

class TokenBucket implements LimiterModel {
  private tokens = 0;
  private last = 0;
  private readonly perMs: number;
  constructor(readonly spec: TokenBucketSpec) {
    this.perMs = spec.ratePerSec / 1000;
    this.reset();
  }
  reset(): void {
    this.tokens = this.spec.burst + this.spec.coldExtra;
    this.last = -Infinity;
  }
  private level(t: number): number {
    const cap = this.spec.burst;
    if (this.tokens >= cap) return this.tokens; // full (or the cold extra): refill adds nothing
    return Math.min(cap, this.tokens + this.perMs * Math.max(0, t - this.last));
  }
  decide(t: number): Verdict {
    return this.level(t) >= 1 - EPS ? 0 : REFUSED;
  }
  commit(t: number, accepted: boolean): number {
    const level = this.level(t);
    const expected = level >= 1 - EPS;
    let cost = 0;
    if (accepted) {
      if (!expected) cost = 1; // it had a whole token after all
      this.tokens = Math.max(0, level - 1);
    } else if (expected) {
      cost = Math.floor(level + EPS); // it had just under one
      this.tokens = 1 - 1e-6;
    } else return 0; // GCRA: a refused request leaves the state unchanged
    this.last = Math.max(this.last, t);
    return cost;
  }
}

class IntegerBucket implements LimiterModel {
  private tokens = 0;
  private lastUsed = 0;
  private blockUntil = 0;
  private fresh = true;
  constructor(readonly spec: IntegerBucketSpec) {
    this.reset();
  }
  reset(): void {
    this.fresh = true;
    this.tokens = this.spec.limit;
    this.blockUntil = 0;
  }
  private calc(t: number): number {
    if (this.fresh) return this.spec.limit; // get_bucket(): a new bucket is full, last_used = now
    const delta = Math.max(0, t - this.lastUsed);
    return Math.min(this.spec.limit, this.tokens + Math.trunc((delta / this.spec.periodMs) * this.spec.limit));
  }
  decide(t: number): Verdict {
    const blocked = this.spec.blockMs > 0 && !this.fresh && t < this.blockUntil;
    return !blocked && this.calc(t) > 0 ? 0 : REFUSED;
  }
  commit(t: number, accepted: boolean): number {
    const tokens = this.calc(t);
    const blocked = this.spec.blockMs > 0 && !this.fresh && t < this.blockUntil;
    if (this.fresh) this.lastUsed = t;
    this.fresh = false;
    this.tokens = tokens;
    if (blocked) this.lastUsed = t;
    if (accepted) {
      // Unexpected when out of tokens or locked out: it had one and no lockout.
      const cost = tokens > 0 && !blocked ? 0 : 1;
      this.tokens = Math.max(0, tokens - 1);
      this.lastUsed = t;
      this.blockUntil = 0;
      return cost;
    }
    if (blocked) {
      if (tokens > 0) this.tokens = tokens - 1; // a locked-out request still takes a token
      return 0;
    }
    // Unexpected when it had tokens: it had none (and the lockout starts, as the limiter's would).
    const cost = tokens;
    this.tokens = 0;
    if (this.spec.blockMs > 0) this.blockUntil = t + this.spec.blockMs;
    return cost;
  }
}

class LeakyBucket implements LimiterModel {
  private excess = 0;
  private last = 0;
  private fresh = true;
  /** nginx stores the rate in thousandths per second (ctx->rate = rate·1000). */
  private readonly rate1000: number;
  constructor(readonly spec: LeakyBucketSpec) {
    this.rate1000 = Math.max(1, Math.floor(spec.ratePerSec * 1000));
    this.reset();
  }
  reset(): void {
    this.fresh = true;
    this.excess = 0;
    this.last = -Infinity;
  }
  private charged(t: number): number {
    if (this.fresh && this.spec.freshKey) return 0; // new node: excess = 0, the request itself is not charged
    if (this.last === -Infinity) return 1000; // a known key idle for long: excess 0, charged this request
    const ms = Math.max(0, Math.floor(t) - this.last);
    return Math.max(0, this.excess - Math.floor((this.rate1000 * ms) / 1000) + 1000);
  }
  decide(t: number): Verdict {
    const excess = this.charged(t);
    if (excess > this.spec.burst * 1000) return REFUSED;
    const delay = this.spec.delay * 1000;
    return excess <= delay ? 0 : Math.floor(((excess - delay) * 1000) / this.rate1000);
  }
  commit(t: number, accepted: boolean): number {
    const excess = this.charged(t);
    const limit = this.spec.burst * 1000;
    let cost = 0;
    if (accepted) {
      if (excess > limit) cost = Math.ceil((excess - limit) / 1000); // it was within the burst after all
      this.excess = Math.min(limit, excess);
    } else if (excess <= limit) {
      cost = Math.floor((limit - excess) / 1000) + 1; // it was just over the burst
      this.excess = limit + 1 - 1000;
    } else return 0; // NGX_BUSY: nothing is stored
    this.last = Math.max(this.last, Math.floor(t));
    this.fresh = false;
    return cost;
  }
}

class TimerRefill implements LimiterModel {
  private tokens = 0;
  private fill = 0;
  constructor(readonly spec: TimerRefillSpec) {
    this.reset();
  }
  reset(): void {
    this.tokens = this.spec.maxTokens;
    this.fill = -Infinity;
  }
  private fillIndex(t: number): number {
    return Math.floor((t - this.spec.phaseMs) / this.spec.fillIntervalMs);
  }
  private level(t: number): number {
    const fills = this.fillIndex(t) - this.fill;
    return fills > 0 ? Math.min(this.spec.maxTokens, this.tokens + fills * this.spec.tokensPerFill) : this.tokens;
  }
  decide(t: number): Verdict {
    return this.level(t) >= 1 ? 0 : REFUSED;
  }
  commit(t: number, accepted: boolean): number {
    const level = this.level(t);
    this.fill = Math.max(this.fill, this.fillIndex(t));
    if (accepted) {
      this.tokens = Math.max(0, level - 1); // unexpected when empty: it had one
      return level >= 1 ? 0 : 1;
    }
    this.tokens = Math.min(level, 0); // unexpected when it had some: it had none
    return Math.max(0, Math.floor(level));
  }
}

class FixedWindow implements LimiterModel {
  private start = -Infinity;
  private count = 0;
  /** The window before the current one: requests replayed after a later one opened the current window. */
  private previous = 0;
  constructor(readonly spec: FixedWindowSpec) {
    this.reset();
  }
  reset(): void {
    this.start = -Infinity;
    this.count = 0;
    this.previous = 0;
  }
  /** Start of the window a request at t falls in (after it opened one, if it does); -Infinity: an older one. */
  private windowAt(t: number): number {
    const w = this.spec.windowMs;
    if (this.spec.alignment === 'first-request') return t >= this.start + w ? t : this.start;
    // (A window opened by a request has no earlier boundary the client knows to better than its arrival: any
    // earlier request replayed later counts in it.)
    if (t < this.start) return t >= this.start - w ? this.start - w : -Infinity;
    return Math.floor(t / w) * w;
  }
  private countAt(start: number): number {
    if (start === this.start) return this.count;
    return start < this.start ? this.previous : 0;
  }
  decide(t: number): Verdict {
    return this.countAt(this.windowAt(t)) + 1 <= this.spec.limit ? 0 : REFUSED;
  }
  commit(t: number, accepted: boolean): number {
    const limit = this.spec.limit;
    const start = this.windowAt(t);
    if (start < this.start) {
      // Replayed after a later request opened the current window: it belongs to the one before.
      const cost = accepted ? Math.max(0, this.previous + 1 - limit) : Math.max(0, limit - this.previous);
      this.previous = (accepted ? Math.min(this.previous, limit - 1) : Math.max(this.previous, limit)) + 1;
      return cost;
    }
    if (this.spec.alignment === 'first-request') {
      // The window's phase is where the model is likeliest wrong (it opened at an estimated arrival): an
      // unexpected refusal that would have opened a window came in the old, full one; an unexpected accept in
      // a full window opened a new one (the request arrived later than estimated, or the window began earlier).
      if (!accepted && start > this.start) {
        this.count = Math.max(this.count, limit) + 1;
        if (this.spec.restartOnRefusal) this.start = t;
        return 1;
      }
      if (accepted && start === this.start && this.count >= limit) {
        // At the earliest when the model's window ends: the accept is the limiter's first of a new one.
        this.previous = this.count;
        this.start = Math.max(t, this.start + this.spec.windowMs);
        this.count = 1;
        return 1;
      }
    }
    if (start > this.start) {
      this.previous = start - this.start <= this.spec.windowMs || this.spec.alignment === 'first-request' ? this.count : 0;
      this.start = start;
      this.count = 0;
    }
    // Refused requests count too (express-rate-limit, @fastify/rate-limit; no outcome depends on it).
    let cost = 0;
    if (accepted && this.count >= limit) {
      cost = this.count - limit + 1; // it had room for one more
      this.count = limit - 1;
    } else if (!accepted && this.count < limit) {
      cost = limit - this.count; // it was full
      this.count = limit;
    }
    this.count += 1;
    // fastify continueExceeding: the refusal restarts the window (start ≤ t here: the window t falls in).
    if (!accepted && this.spec.restartOnRefusal && this.spec.alignment === 'first-request') this.start = Math.max(this.start, t);
    return cost;
  }
}

class SlidingWindow implements LimiterModel {
  private tick = 0;
  private curr = 0;
  private prev = 0;
  private fresh = true;
  constructor(readonly spec: SlidingWindowSpec) {
    this.reset();
  }
  reset(): void {
    this.fresh = true;
    this.tick = 0;
    this.curr = 0;
    this.prev = 0;
  }
  /** _freq_ctr_total_from_values(): curr + prev·remain/P as read at t, without rotating. */
  private count(t: number): number {
    if (this.fresh) return 0;
    const p = this.spec.windowMs;
    const now = Math.floor(t);
    if (this.spec.alignment === 'utc') {
      const tick = Math.floor(now / p) * p;
      const periods = (tick - this.tick) / p;
      const curr = periods === 0 ? this.curr : 0;
      const prev = periods === 0 ? this.prev : periods === 1 ? this.curr : 0;
      return curr + Math.floor((prev * (tick + p - now)) / p);
    }
    let remain = this.tick + p - now;
    let past = this.prev;
    let curr = this.curr;
    if (remain < 0) {
      remain += p;
      past = remain >= 0 ? curr : 0;
      curr = 0;
    }
    return curr + Math.floor((past * Math.max(0, remain)) / p);
  }
  decide(t: number): Verdict {
    return this.count(t) + 1 <= this.spec.limit ? 0 : REFUSED;
  }
  /** update_freq_ctr_period_slow(): rotate at a counted event, then count it. */
  commit(t: number, accepted: boolean): number {
    // Unexpected outcomes move the current period's count to the nearest that allows them.
    const limit = this.spec.limit;
    const before = this.count(t);
    const cost = accepted ? Math.max(0, before + 1 - limit) : Math.max(0, limit - before);
    if (!accepted && !this.spec.countsRejected) {
      if (cost > 0 && !this.fresh) this.curr += cost;
      return cost;
    }
    const p = this.spec.windowMs;
    const now = Math.floor(t);
    if (this.spec.alignment === 'utc') {
      const tick = Math.floor(now / p) * p;
      if (this.fresh || tick - this.tick >= 2 * p) [this.prev, this.curr] = [0, 0];
      else if (tick - this.tick === p) [this.prev, this.curr] = [this.curr, 0];
      if (this.fresh || tick > this.tick) this.tick = tick;
    } else if (this.fresh) {
      this.tick = now;
      this.prev = 0;
      this.curr = 0;
    } else if (now - this.tick >= p) {
      this.prev = this.curr;
      this.curr = 0;
      this.tick += p;
      if (now - this.tick >= p) {
        this.prev = 0; // at least two periods missed: a new period starts now
        this.tick = now;
      }
    }
    this.fresh = false;
    if (accepted) this.curr = Math.max(0, this.curr - cost);
    else this.curr += cost;
    this.curr += 1;
    return cost;
  }
}

export function createModel(spec: ModelSpec): LimiterModel {
  switch (spec.family) {
    case 'token-bucket':
      return new TokenBucket(spec);
    case 'integer-bucket':
      return new IntegerBucket(spec);
    case 'leaky-bucket':
      return new LeakyBucket(spec);
    case 'timer-refill':
      return new TimerRefill(spec);
    case 'fixed-window':
      return new FixedWindow(spec);
    case 'sliding-window':
      return new SlidingWindow(spec);
  }
}

/**
 * Run a limiter over requests arriving at the given times (epoch ms, in arrival order) from a cold state:
 * each one's verdict (REFUSED or the delay in ms). This is the limiter itself, not a fit: tests and benches
 * build synthetic observations with it.
 */
export function simulate(spec: ModelSpec, arrivalsMs: readonly number[]): Verdict[] {
  const model = createModel(spec);
  return arrivalsMs.map((t) => {
    const verdict = model.decide(t);
    model.commit(t, verdict !== REFUSED);
    return verdict;
  });
}

/** Long-run accepted rate of a limiter, requests per second. */
export function ratePerSec(spec: ModelSpec): number {
  switch (spec.family) {
    case 'token-bucket':
    case 'leaky-bucket':
      return spec.ratePerSec;
    case 'integer-bucket':
      return (spec.limit / spec.periodMs) * 1000;
    case 'timer-refill':
      return (spec.tokensPerFill / spec.fillIntervalMs) * 1000;
    case 'fixed-window':
    case 'sliding-window':
      return (spec.limit / spec.windowMs) * 1000;
  }
}

/** How many requests an idle limiter admits at once (its bucket, or its window's limit). */
export function burstOf(spec: ModelSpec): number {
  switch (spec.family) {
    case 'token-bucket':
    case 'leaky-bucket':
      return spec.burst;
    case 'integer-bucket':
    case 'fixed-window':
    case 'sliding-window':
      return spec.limit;
    case 'timer-refill':
      return spec.maxTokens;
  }
}
