import { LatencyRecorder } from '../engine/latency.js';
import type { WindowCounts } from '../engine/timeline.js';

/**
 * What one k6 instance produced, read from one file, and how instances merge. Points (NDJSON)
 * give exact aggregates: counters and rates add up, trends keep an HDR histogram, so merged
 * percentiles are exact (to the histogram's 0.1%). Summaries only give per-instance statistics:
 * counts still add up, but percentiles of a union cannot be computed from the parts; they are
 * merged as the largest instance value (an upper bound) and marked approximate.
 */
export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

export type InstanceFormat = 'ndjson' | 'summary-export' | 'handle-summary' | 'summary-v1';

/** Exact aggregate of one metric's points; mergeable. */
export class PointAggregate {
  points = 0;
  sum = 0;
  nonZero = 0;
  min = Infinity;
  max = -Infinity;
  lastAtMs = -Infinity;
  last = Number.NaN;
  readonly histogram: LatencyRecorder | undefined;

  constructor(
    readonly type: MetricType,
    readonly contains: string,
  ) {
    this.histogram = type === 'trend' ? new LatencyRecorder() : undefined;
  }

  add(value: number, atMs: number): void {
    this.points++;
    this.sum += value;
    if (value !== 0) this.nonZero++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (atMs >= this.lastAtMs) {
      this.lastAtMs = atMs;
      this.last = value;
    }
    // The recorder keeps microseconds from 1 µs to one hour: k6 trends are milliseconds.
    this.histogram?.recordMs(Math.min(Math.max(value, 0), 3_600_000));
  }

  merge(other: PointAggregate): void {
    this.points += other.points;
    this.sum += other.sum;
    this.nonZero += other.nonZero;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    if (other.lastAtMs >= this.lastAtMs) {
      this.lastAtMs = other.lastAtMs;
      this.last = other.last;
    }
    if (this.histogram && other.histogram) this.histogram.addAll(other.histogram);
  }

  /** A k6 aggregation (`count`, `rate`, `value`, `avg`, `min`, `max`, `med`, `p(95)`), or undefined. */
  stat(name: string, durationMs: number): number | undefined {
    if (this.points === 0) return undefined;
    switch (this.type) {
      case 'counter':
        if (name === 'count') return this.sum;
        if (name === 'rate') return durationMs > 0 ? this.sum / (durationMs / 1000) : undefined;
        return undefined;
      case 'rate':
        if (name === 'rate') return this.nonZero / this.points;
        if (name === 'passes') return this.nonZero;
        if (name === 'fails') return this.points - this.nonZero;
        return undefined;
      case 'gauge':
        return name === 'value' ? this.last : name === 'min' ? this.min : name === 'max' ? this.max : undefined;
      case 'trend': {
        if (name === 'count') return this.points;
        if (name === 'avg') return this.sum / this.points;
        if (name === 'min') return this.min;
        if (name === 'max') return this.max;
        const q = name === 'med' ? 50 : percentileOf(name);
        if (q === undefined) return undefined;
        // The histogram answers with its bucket's upper edge; the exact extremes bound it.
        const value = this.histogram!.percentileMs(q) ?? 0;
        return Math.min(this.max, Math.max(this.min, value));
      }
    }
  }

  /** The values k6's summary shows for this type. */
  values(durationMs: number, trendStats: readonly string[] = DEFAULT_TREND_STATS): Record<string, number> {
    const names =
      this.type === 'counter'
        ? ['count', 'rate']
        : this.type === 'rate'
          ? ['passes', 'fails', 'rate']
          : this.type === 'gauge'
            ? ['value', 'min', 'max']
            : trendStats;
    const out: Record<string, number> = {};
    for (const name of names) {
      const value = this.stat(name, durationMs);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
}

export const DEFAULT_TREND_STATS = ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** `p(99.9)` → 99.9 */
export function percentileOf(name: string): number | undefined {
  const match = /^p\(\s*(\d+(?:\.\d+)?)\s*\)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A metric as a summary file states it: k6's own statistics for one instance. */
export interface SummaryMetric {
  type: MetricType;
  contains?: string;
  values: Record<string, number>;
}

export interface ThresholdVerdict {
  /** Metric selector as k6 names it: `http_req_duration` or `http_req_duration{route:GET /x}`. */
  metric: string;
  expression: string;
  ok: boolean;
}

export interface CheckCount {
  passes: number;
  fails: number;
}

/** Requests one gatecheck probe (route + probe tags) sent, as the points tell. */
export class ProbeAggregate {
  requests = 0;
  /** Answers k6 counted as expected (expected_response:true; 2xx when the tag is missing). */
  expected = 0;
  readonly statuses = new Map<number, number>();
  /** Latency of expected answers only (the slo judges normal answers). */
  readonly latency = new LatencyRecorder();
  firstSentMs = Infinity;
  lastSentMs = -Infinity;

  constructor(
    readonly route: string,
    readonly probe: string,
  ) {}

  add(status: number, expected: boolean, durationMs: number, sentAtMs: number): void {
    this.requests++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (expected) {
      this.expected++;
      this.latency.recordMs(Math.max(durationMs, 0));
    }
    this.firstSentMs = Math.min(this.firstSentMs, sentAtMs);
    this.lastSentMs = Math.max(this.lastSentMs, sentAtMs);
  }

  merge(other: ProbeAggregate): void {
    this.requests += other.requests;
    this.expected += other.expected;
    for (const [status, n] of other.statuses) this.statuses.set(status, (this.statuses.get(status) ?? 0) + n);
    this.latency.addAll(other.latency);
    this.firstSentMs = Math.min(this.firstSentMs, other.firstSentMs);
    this.lastSentMs = Math.max(this.lastSentMs, other.lastSentMs);
  }
}

/**
 * One request of a judged gatecheck probe (throttle volley and paced, slo), kept one by one:
 * decode.ts turns these into the Observations the checks' evaluate reads.
 */
export interface RequestRecord {
  route: string;
  probe: string;
  /** The usage plan whose key sent it (the export's `plan` tag), if any. */
  plan?: string;
  method?: string;
  url?: string;
  /** Send time, epoch ms: the point's time less its duration. */
  sentAtMs: number;
  /** http_req_duration, ms: the point is stamped when the answer ended. */
  durationMs: number;
  /** HTTP status; undefined when no response came back (k6's status 0). */
  status?: number;
  /** k6's `error` (or `error_code`) tag when no response came back. */
  error?: string;
}

/** The per-request aggregates one instance has and a merge adds up, field by field. */
export interface RequestAggregates {
  /** NDJSON: exact aggregates per metric and per declared submetric (`name{tags}`). */
  points: Map<string, PointAggregate>;
  checks: Map<string, CheckCount>;
  /** NDJSON: requests per HTTP status (0 = no response). */
  statuses: Map<number, number>;
  /** NDJSON: requests per window start (epoch ms, by send time). */
  windows: Map<number, WindowCounts>;
  windowMs: number;
  probes: Map<string, ProbeAggregate>;
  records: RequestRecord[];
  /** dropped_iterations per k6 scenario. */
  dropped: Map<string, number>;
}

export interface InstanceResult extends RequestAggregates {
  file: string;
  format: InstanceFormat;
  k6Version?: string;
  /** k6-operator's `instance_id` tags seen in the points. */
  instanceIds: string[];
  /** Lines read (NDJSON). */
  lines: number;
  /** First and last point time, epoch ms (NDJSON). */
  startMs?: number;
  endMs?: number;
  /** Test run duration as the summary states it. */
  durationMs?: number;
  /** NDJSON Metric lines: thresholds declared per metric. */
  thresholdDefinitions: Map<string, string[]>;
  /** Summaries: k6's statistics per metric (submetrics included under their selector). */
  summary: Map<string, SummaryMetric>;
  /** Summaries: k6's own threshold verdicts. */
  thresholds: ThresholdVerdict[];
}

export function emptyInstance(file: string, format: InstanceFormat, windowMs: number): InstanceResult {
  return {
    file,
    format,
    instanceIds: [],
    lines: 0,
    thresholdDefinitions: new Map(),
    summary: new Map(),
    thresholds: [],
    ...emptyRequestAggregates(windowMs),
  };
}

/** Empty request aggregates: the start of one instance's reading, or of a merge. */
export function emptyRequestAggregates(windowMs: number): RequestAggregates {
  return {
    points: new Map(),
    checks: new Map(),
    statuses: new Map(),
    windows: new Map(),
    windowMs,
    probes: new Map(),
    records: [],
    dropped: new Map(),
  };
}

export function probeKey(route: string, probe: string): string {
  return `${route}\u0000${probe}`;
}

/** Duration an instance's rates are computed over: its points' span, or the summary's. */
export function instanceDurationMs(instance: Pick<InstanceResult, 'startMs' | 'endMs' | 'durationMs'>): number {
  if (instance.durationMs !== undefined) return instance.durationMs;
  return instance.startMs !== undefined && instance.endMs !== undefined ? instance.endMs - instance.startMs : 0;
}
