/**
 * Per-minute traffic metrics, shaped like the CloudWatch `AWS/ApiGateway` REST metrics (Count,
 * 4XXError, 5XXError, Latency), so a later CloudWatch emulation can answer GetMetricData from
 * what the reference gateway actually served.
 *
 * Bounded: only the last `retentionMinutes` minutes are kept, and each (minute, route) series is
 * a few counters plus a fixed-size log histogram, whatever the traffic. Pure: the caller passes
 * the wall-clock time of each record (CloudWatch periods are wall-clock minutes).
 */

/** Latency histogram: bucket i holds [LOWEST_MS * GROWTH^i, LOWEST_MS * GROWTH^(i+1)). */
const LOWEST_MS = 0.01;
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
const HIGHEST_MS = 1_000_000;
/** 0.01 ms .. 1,000 s is ln(1e8) / ln(1.04) = 470 buckets (1.9 KB a series); slower answers land in the last. */
const BUCKETS = Math.ceil(Math.log(HIGHEST_MS / LOWEST_MS) / LOG_GROWTH) + 1;

export const MINUTE_MS = 60_000;

export interface LatencySummary {
  sumMs: number;
  count: number;
  maxMs: number;
  /**
   * Percentiles from the histogram: the upper edge of the bucket holding the rank (at most 4%
   * above the true value, never below it), capped at maxMs.
   */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface MinuteDatapoint {
  /** Start of the minute, epoch milliseconds (a multiple of 60,000). */
  minuteStartMs: number;
  /** Route key (`GET /api/items`), or ALL_ROUTES for a merged datapoint. */
  route: string;
  /** Requests answered (CloudWatch `Count`). */
  count: number;
  /** Answers 400..499 (`4XXError`). */
  error4xx: number;
  /** Answers 500..599 (`5XXError`). */
  error5xx: number;
  /** Time from the request's arrival to its answer (`Latency`). */
  latency: LatencySummary;
}

export interface DatapointQuery {
  /** Only this route key. */
  route?: string;
  /** Minutes starting at or after this epoch-ms time. */
  fromMs?: number;
  /** Minutes starting before this epoch-ms time. */
  toMs?: number;
  /** One datapoint per minute for all routes together (the `ApiName,Stage` dimension). */
  mergeRoutes?: boolean;
}

/** Route key for a merged datapoint. */
export const ALL_ROUTES = '*';

class Series {
  count = 0;
  error4xx = 0;
  error5xx = 0;
  latencySumMs = 0;
  latencyMaxMs = 0;
  readonly histogram = new Uint32Array(BUCKETS);

  add(status: number, latencyMs: number): void {
    this.count++;
    if (status >= 500 && status <= 599) this.error5xx++;
    else if (status >= 400 && status <= 499) this.error4xx++;
    const ms = latencyMs > 0 ? latencyMs : 0;
    this.latencySumMs += ms;
    if (ms > this.latencyMaxMs) this.latencyMaxMs = ms;
    this.histogram[bucketOf(ms)]!++;
  }

  merge(other: Series): void {
    this.count += other.count;
    this.error4xx += other.error4xx;
    this.error5xx += other.error5xx;
    this.latencySumMs += other.latencySumMs;
    if (other.latencyMaxMs > this.latencyMaxMs) this.latencyMaxMs = other.latencyMaxMs;
    for (let i = 0; i < BUCKETS; i++) this.histogram[i]! += other.histogram[i]!;
  }

  toDatapoint(minuteStartMs: number, route: string): MinuteDatapoint {
    return {
      minuteStartMs,
      route,
      count: this.count,
      error4xx: this.error4xx,
      error5xx: this.error5xx,
      latency: {
        sumMs: this.latencySumMs,
        count: this.count,
        maxMs: this.latencyMaxMs,
        p50Ms: this.percentileMs(0.5),
        p90Ms: this.percentileMs(0.9),
        p99Ms: this.percentileMs(0.99),
      },
    };
  }

  /** Smallest bucket edge with at least ceil(q * count) samples at or below it. */
  percentileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.histogram[i]!;
      if (seen >= rank) return Math.min(this.latencyMaxMs, upperEdgeMs(i));
    }
    return this.latencyMaxMs;
  }
}

function bucketOf(ms: number): number {
  if (ms < LOWEST_MS) return 0;
  const i = Math.floor(Math.log(ms / LOWEST_MS) / LOG_GROWTH);
  return i < BUCKETS ? i : BUCKETS - 1;
}

function upperEdgeMs(bucket: number): number {
  return LOWEST_MS * GROWTH ** (bucket + 1);
}

export class MetricsRecorder {
  readonly retentionMinutes: number;
  /** minuteStartMs → route → series. Maps keep insertion order, so the oldest minute is first. */
  private readonly minutes = new Map<number, Map<string, Series>>();
  private newestMinuteMs = -Infinity;

  constructor(options: { retentionMinutes?: number } = {}) {
    this.retentionMinutes = options.retentionMinutes ?? 60;
    if (!(this.retentionMinutes >= 1)) throw new RangeError(`retentionMinutes must be at least 1, got ${this.retentionMinutes}`);
  }

  /** Records one answered request. `epochMs`: wall-clock time of the answer. */
  record(epochMs: number, route: string, status: number, latencyMs: number): void {
    const minuteStartMs = epochMs - (epochMs % MINUTE_MS);
    // A straggler older than the retained window would be evicted at the next minute anyway.
    if (minuteStartMs < this.newestMinuteMs - (this.retentionMinutes - 1) * MINUTE_MS) return;
    let routes = this.minutes.get(minuteStartMs);
    if (routes === undefined) {
      routes = new Map();
      this.minutes.set(minuteStartMs, routes);
      if (minuteStartMs > this.newestMinuteMs) {
        this.newestMinuteMs = minuteStartMs;
        this.evictBefore(minuteStartMs - (this.retentionMinutes - 1) * MINUTE_MS);
      }
    }
    let series = routes.get(route);
    if (series === undefined) {
      series = new Series();
      routes.set(route, series);
    }
    series.add(status, latencyMs);
  }

  /** Datapoints ordered by minute, then by route key. */
  datapoints(query: DatapointQuery = {}): MinuteDatapoint[] {
    const out: MinuteDatapoint[] = [];
    const minuteStarts = [...this.minutes.keys()].sort((a, b) => a - b);
    for (const minuteStartMs of minuteStarts) {
      if (query.fromMs !== undefined && minuteStartMs < query.fromMs) continue;
      if (query.toMs !== undefined && minuteStartMs >= query.toMs) continue;
      const routes = this.minutes.get(minuteStartMs)!;
      const selected = [...routes.entries()].filter(([route]) => query.route === undefined || route === query.route);
      if (selected.length === 0) continue;
      if (query.mergeRoutes) {
        const merged = new Series();
        for (const [, series] of selected) merged.merge(series);
        out.push(merged.toDatapoint(minuteStartMs, query.route ?? ALL_ROUTES));
      } else {
        selected.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        for (const [route, series] of selected) out.push(series.toDatapoint(minuteStartMs, route));
      }
    }
    return out;
  }

  /** Route keys seen in the retained minutes, sorted. */
  routes(): string[] {
    const keys = new Set<string>();
    for (const routes of this.minutes.values()) for (const route of routes.keys()) keys.add(route);
    return [...keys].sort();
  }

  clear(): void {
    this.minutes.clear();
    this.newestMinuteMs = -Infinity;
  }

  private evictBefore(oldestKeptMs: number): void {
    for (const minuteStartMs of this.minutes.keys()) {
      if (minuteStartMs < oldestKeptMs) this.minutes.delete(minuteStartMs);
    }
  }
}
