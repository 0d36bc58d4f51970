import type { WindowCounts } from '../engine/timeline.js';
import {
  emptyInstance,
  PointAggregate,
  ProbeAggregate,
  probeKey,
  type InstanceResult,
  type MetricType,
  type RequestRecord,
} from './aggregate.js';
import { K6InputError } from './errors.js';
import { SLO_PROBE, THROTTLE_PROBES } from './names.js';

/**
 * Reads k6's `--out json` stream, one line at a time (k6 writes `{"type":"Metric",...}` once
 * per metric, before its first point, then `{"type":"Point","metric":...,"data":{time,value,tags}}`).
 * Memory stays bounded by the number of metrics, probes and time windows, not by the points:
 * only the requests of the probes checks judge (throttle, slo) are kept one by one, for evaluate.
 */
export class NdjsonReader {
  readonly result: InstanceResult;
  private readonly metrics = new Map<string, MetricDefinition>();
  private readonly instanceIds = new Set<string>();

  constructor(
    readonly file: string,
    windowMs: number,
  ) {
    this.result = emptyInstance(file, 'ndjson', windowMs);
  }

  /** One line of the file; `lineNo` is 1-based. Throws K6InputError naming the line. */
  line(text: string, lineNo: number): void {
    this.result.lines = lineNo;
    if (text.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      const cut = !text.trimEnd().endsWith('}');
      throw new K6InputError(
        this.file,
        `not valid JSON${cut ? ': the line is cut short (a truncated file?)' : ''}: ${snippet(text)}`,
        lineNo,
      );
    }
    if (!isObject(record)) throw new K6InputError(this.file, `expected a k6 JSON output record, got ${snippet(text)}`, lineNo);
    if (record.type === 'Metric') this.metric(record, lineNo);
    else if (record.type === 'Point') this.point(record, lineNo);
    else
      throw new K6InputError(
        this.file,
        `unknown record type ${JSON.stringify(record.type)} (k6 JSON output has "Metric" and "Point" lines)`,
        lineNo,
      );
  }

  finish(): InstanceResult {
    this.result.instanceIds = [...this.instanceIds].sort();
    return this.result;
  }

  private metric(record: Record<string, unknown>, lineNo: number): void {
    const data = record.data;
    if (!isObject(data)) throw new K6InputError(this.file, 'Metric line without a data object', lineNo);
    const name = typeof data.name === 'string' ? data.name : typeof record.metric === 'string' ? record.metric : undefined;
    if (name === undefined) throw new K6InputError(this.file, 'Metric line without a name', lineNo);
    if (!isMetricType(data.type)) throw new K6InputError(this.file, `metric ${name}: unknown type ${JSON.stringify(data.type)}`, lineNo);
    const submetrics: MetricDefinition['submetrics'] = [];
    if (Array.isArray(data.submetrics)) {
      for (const sub of data.submetrics) {
        if (isObject(sub) && typeof sub.name === 'string' && (sub.tags === null || isObject(sub.tags))) {
          submetrics.push({
            name: sub.name,
            tags: Object.entries(sub.tags ?? {}).map(([k, v]) => [k, String(v)] as const),
          });
        }
      }
    }
    this.metrics.set(name, { type: data.type, contains: typeof data.contains === 'string' ? data.contains : 'default', submetrics });
    if (Array.isArray(data.thresholds) && data.thresholds.length > 0) {
      // Plain strings, or {threshold, abortOnFail, delayAbortEval} when abortOnFail is set.
      const sources = data.thresholds
        .map((t) => (typeof t === 'string' ? t : isObject(t) && typeof t.threshold === 'string' ? t.threshold : undefined))
        .filter((t): t is string => t !== undefined);
      this.result.thresholdDefinitions.set(name, sources);
    }
  }

  private point(record: Record<string, unknown>, lineNo: number): void {
    const metric = record.metric;
    const data = record.data;
    if (typeof metric !== 'string' || !isObject(data))
      throw new K6InputError(this.file, 'Point line without a metric name or data object', lineNo);
    const value = data.value;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new K6InputError(this.file, `point of ${metric}: value is not a number`, lineNo);
    const atMs = typeof data.time === 'string' ? parseK6Time(data.time) : undefined;
    if (atMs === undefined)
      throw new K6InputError(this.file, `point of ${metric}: time ${JSON.stringify(data.time)} is not an RFC 3339 timestamp`, lineNo);
    const tags = isObject(data.tags) ? (data.tags as Record<string, string>) : {};
    const definition = this.definition(metric, lineNo);

    const r = this.result;
    if (r.startMs === undefined || atMs < r.startMs) r.startMs = atMs;
    if (r.endMs === undefined || atMs > r.endMs) r.endMs = atMs;
    if (tags.instance_id !== undefined) this.instanceIds.add(String(tags.instance_id));

    this.aggregate(metric, definition, value, atMs);
    for (const sub of definition.submetrics) {
      if (sub.tags.every(([k, v]) => tags[k] !== undefined && String(tags[k]) === v)) this.aggregate(sub.name, definition, value, atMs);
    }

    switch (metric) {
      case 'http_reqs': {
        const status = statusOf(tags);
        r.statuses.set(status, (r.statuses.get(status) ?? 0) + value);
        break;
      }
      case 'http_req_duration':
        this.request(tags, value, atMs);
        break;
      case 'checks': {
        // Keyed by path (`::group::check`), as summaries key them.
        const name = `${tags.group ?? ''}::${tags.check ?? '(unnamed check)'}`;
        const count = r.checks.get(name) ?? { passes: 0, fails: 0 };
        if (value !== 0) count.passes++;
        else count.fails++;
        r.checks.set(name, count);
        break;
      }
      case 'dropped_iterations': {
        const scenario = tags.scenario ?? '(unknown scenario)';
        r.dropped.set(scenario, (r.dropped.get(scenario) ?? 0) + value);
        break;
      }
    }
  }

  /** Each request has exactly one http_req_duration point: the per-request view starts here. */
  private request(tags: Record<string, string>, durationMs: number, atMs: number): void {
    const r = this.result;
    const status = statusOf(tags);
    // The point is stamped when the response ended; the request left `duration` earlier.
    const sentAtMs = atMs - durationMs;
    const expected = tags.expected_response !== undefined ? tags.expected_response === 'true' : status >= 200 && status < 300;
    const windowStart = Math.floor(sentAtMs / r.windowMs) * r.windowMs;
    const window = r.windows.get(windowStart) ?? { accepted: 0, throttled: 0, other: 0 };
    const outcome: keyof WindowCounts = status === 429 ? 'throttled' : expected && status !== 0 ? 'accepted' : 'other';
    window[outcome]++;
    r.windows.set(windowStart, window);

    const route = tags.route;
    const probe = tags.probe;
    if (route === undefined || probe === undefined) return;
    const key = probeKey(route, probe);
    let aggregate = r.probes.get(key);
    if (!aggregate) r.probes.set(key, (aggregate = new ProbeAggregate(route, probe)));
    aggregate.add(status, expected, durationMs, sentAtMs);
    if (JUDGED_PROBES.has(probe)) r.records.push(requestRecord(tags, route, probe, sentAtMs, durationMs, status));
  }

  private aggregate(name: string, definition: MetricDefinition, value: number, atMs: number): void {
    let aggregate = this.result.points.get(name);
    if (!aggregate) this.result.points.set(name, (aggregate = new PointAggregate(definition.type, definition.contains)));
    aggregate.add(value, atMs);
  }

  private definition(metric: string, lineNo: number): MetricDefinition {
    let definition = this.metrics.get(metric);
    if (!definition) {
      // k6 writes a Metric line before a metric's first point; a file cut from a longer stream
      // may lack it. k6's built-in metrics have fixed types, so those can still be read.
      const builtin = BUILTIN_METRICS[metric];
      if (!builtin)
        throw new K6InputError(
          this.file,
          `point of metric ${metric} comes before its Metric line, and ${metric} is not a k6 built-in metric: its type is unknown`,
          lineNo,
        );
      definition = { type: builtin[0], contains: builtin[1], submetrics: [] };
      this.metrics.set(metric, definition);
    }
    return definition;
  }
}

interface MetricDefinition {
  type: MetricType;
  contains: string;
  submetrics: Array<{ name: string; tags: ReadonlyArray<readonly [string, string]> }>;
}

const BUILTIN_METRICS: Record<string, [MetricType, string]> = {
  vus: ['gauge', 'default'],
  vus_max: ['gauge', 'default'],
  iterations: ['counter', 'default'],
  iteration_duration: ['trend', 'time'],
  dropped_iterations: ['counter', 'default'],
  data_received: ['counter', 'data'],
  data_sent: ['counter', 'data'],
  checks: ['rate', 'default'],
  group_duration: ['trend', 'time'],
  http_reqs: ['counter', 'default'],
  http_req_failed: ['rate', 'default'],
  http_req_duration: ['trend', 'time'],
  http_req_blocked: ['trend', 'time'],
  http_req_connecting: ['trend', 'time'],
  http_req_tls_handshaking: ['trend', 'time'],
  http_req_sending: ['trend', 'time'],
  http_req_waiting: ['trend', 'time'],
  http_req_receiving: ['trend', 'time'],
};

/** The probes checks judge from single requests; scenario probes only feed the totals. */
const JUDGED_PROBES: ReadonlySet<string> = new Set([THROTTLE_PROBES.volley, THROTTLE_PROBES.paced, SLO_PROBE]);

/** Status 0 is k6's "no response": a transport error, with k6's error tags as its reason. */
function requestRecord(
  tags: Record<string, string>,
  route: string,
  probe: string,
  sentAtMs: number,
  durationMs: number,
  status: number,
): RequestRecord {
  const record: RequestRecord = { route, probe, sentAtMs, durationMs };
  if (tags.plan) record.plan = String(tags.plan);
  if (tags.method) record.method = String(tags.method);
  if (tags.url) record.url = String(tags.url);
  if (status !== 0) record.status = status;
  else record.error = tags.error ? String(tags.error) : tags.error_code ? `k6 error_code ${String(tags.error_code)}` : 'no response';
  return record;
}

function statusOf(tags: Record<string, string>): number {
  const status = Number(tags.status);
  return Number.isInteger(status) ? status : 0;
}

const secondsCache = new Map<string, number>();

/**
 * k6 writes Go's RFC 3339 with nanoseconds and an offset (`2023-09-08T21:03:10.549397854+02:00`);
 * Date.parse keeps only milliseconds, so the fraction is added separately (sub-ms precision
 * matters for a volley that leaves within a millisecond).
 */
export function parseK6Time(text: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return undefined;
  const key = match[1]! + match[3]!;
  let seconds = secondsCache.get(key);
  if (seconds === undefined) {
    seconds = Date.parse(key);
    if (Number.isNaN(seconds)) return undefined;
    if (secondsCache.size > 10_000) secondsCache.clear();
    secondsCache.set(key, seconds);
  }
  return seconds + (match[2] ? Number(`0.${match[2]}`) * 1000 : 0);
}

function isMetricType(value: unknown): value is MetricType {
  return value === 'counter' || value === 'gauge' || value === 'rate' || value === 'trend';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snippet(text: string): string {
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}…` : JSON.stringify(text);
}
