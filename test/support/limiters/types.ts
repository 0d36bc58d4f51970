/**
 * The uniform face of every real limiter a test can start (test/support/limiters/index.ts): where it
 * listens, what its configuration means in issue 12's vocabulary (`truth`), and how to stop it.
 */

/** The families of issue 12 (`observed.algorithm`), minus `unknown`: a harness always knows its own. */
export type LimiterAlgorithm = 'token-bucket' | 'fixed-window' | 'sliding-window' | 'leaky-bucket-delay' | 'timer-refill';

/**
 * What a limiter's configuration promises, stated from outside (per key, for one client). Every count is
 * in requests. Fields that do not apply to an algorithm are absent, never 0.
 */
export interface LimiterTruth {
  algorithm: LimiterAlgorithm;
  /** The configuration as the limiter spells it, e.g. `limit_req_zone … rate=20r/s; limit_req … burst=10 nodelay;`. */
  configured: string;
  /** Long-run accepted requests per second for a key that keeps sending above the limit (lockouts aside). */
  ratePerSec: number;
  /**
   * Buckets: requests accepted at once by a key that has been idle long enough — the bucket's size as seen
   * from outside, which need not be the configured number (nginx `burst=B` holds B+1).
   */
  burst?: number;
  /**
   * Requests a never-seen key gets accepted at once, before any refill: `burst + 1` for nginx and GCRA,
   * the limit for windows. A cold volley's accepted count starts here.
   */
  coldBurst: number;
  /** Windows and sliding counters: the window (or counter period) in seconds. */
  windowSec?: number;
  /** Windows and sliding counters: requests allowed per window. */
  limit?: number;
  /** Fixed windows: opened by the key's first request, or aligned to the wall clock. */
  windowAnchor?: 'first-request' | 'clock';
  /**
   * True when a refused request still uses up allowance, so a client that keeps sending above the limit is
   * refused for longer than one that pauses (HAProxy `http_req_rate`, fastify `continueExceeding`). A fixed
   * window that merely counts its refusals (express-rate-limit's store) admits the same, so it is false there.
   */
  countsRejected?: boolean;
  /** The HTTP status of a refusal. */
  status: number;
  /** Seconds a key is refused outright once it hits the limit (vsthrottle `block`). */
  lockoutSec?: number;
  /** Delaying limiters (nginx without `nodelay`): excess requests served at once before delays start (`delay=`). */
  delayAfter?: number;
  /**
   * vsthrottle: the refill is counted in whole tokens since the last accepted request, and the fraction is
   * lost at every accept, so a client sending faster than the rate gets less than `ratePerSec`: with arrivals
   * every `a` s the accepts come every `ceil(period/limit / a) * a` s (or one arrival later, float rounding).
   */
  truncatedRefill?: boolean;
  /** Timer refill: seconds between refills, tokens per refill, and where the refills fall. */
  fillIntervalSec?: number;
  tokensPerFill?: number;
  fillPhase?: 'wall-clock-second';
  /** Response headers the limiter sets on its answers (lower case), e.g. `ratelimit`, `retry-after`. */
  headers: string[];
  /** What else a reader of the numbers should know (quirks read from the limiter's source). */
  notes: string[];
}

export interface RunningLimiter {
  /** Which limiter and setting, e.g. `nginx-limit-req/nodelay`. */
  name: string;
  /** Base URL without a trailing slash. Every path but /health is limited per `x-api-key`. */
  url: string;
  truth: LimiterTruth;
  /** Process ids of everything started for this limiter (masters, workers, helpers), read after start. */
  pids: number[];
  /** Ports it listens on (the first serves `url`). */
  ports: number[];
  /** The throw-away directory it runs in (removed by stop()). */
  dir: string;
  /** Its log so far (stdout, stderr, error logs). */
  log(): string;
  /** Stops every process (graceful, then SIGKILL after a bound) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}
