import {
  emptyRequestAggregates,
  instanceDurationMs,
  PointAggregate,
  ProbeAggregate,
  type CheckCount,
  type InstanceResult,
  type MetricType,
  type RequestAggregates,
  type SummaryMetric,
} from './aggregate.js';
import { evaluateThreshold, isExtensive, parseThreshold } from './thresholds.js';

/**
 * N instances → one result. With points (NDJSON), every number is exact: counters and rates
 * add, histograms add, timelines add window by window (windows are aligned to the epoch, so
 * instances that ran side by side land in the same windows). With summaries only, counts still
 * add exactly; trend statistics are merged approximately and say so.
 */
export interface MergedMetric {
  name: string;
  type: MetricType;
  values: Record<string, number>;
  /** Values that are not exact (percentiles, averages from summaries), and why. */
  approximate?: string;
}

export interface InstanceThreshold {
  file: string;
  ok: boolean;
  value?: number;
  /** `k6`: the instance's own verdict from its summary; `points`: evaluated here on its points. */
  source: 'k6' | 'points';
}

export interface MergedThreshold {
  metric: string;
  expression: string;
  /** Verdict on the merged data; undefined when there is no merged value to judge. */
  ok?: boolean;
  mergedValue?: number;
  mergedExact: boolean;
  instances: InstanceThreshold[];
  /** Why the verdict is what it is, in words. */
  reason: string;
}

/** Every instance's request aggregates added up (points: exact, for on-demand statistics). */
export interface MergedResult extends RequestAggregates {
  instances: InstanceResult[];
  /** Where the totals come from. */
  source: 'points' | 'summaries';
  durationMs: number;
  startMs?: number;
  endMs?: number;
  metrics: MergedMetric[];
  thresholds: MergedThreshold[];
  notes: string[];
}

export interface MergeOptions {
  /** Thresholds to evaluate on merged points beyond those the files declare (the policy's, as exported). */
  extraThresholds?: Record<string, string[]>;
}

export function mergeInstances(instances: InstanceResult[], options: MergeOptions = {}): MergedResult {
  const withPoints = instances.filter((i) => i.format === 'ndjson');
  const source = withPoints.length > 0 ? 'points' : 'summaries';
  const notes: string[] = [];
  const windowMs = instances[0]?.windowMs ?? 100;
  const merged: MergedResult = {
    instances,
    source,
    durationMs: 0,
    metrics: [],
    thresholds: [],
    ...emptyRequestAggregates(windowMs),
    notes,
  };
  const contributing = source === 'points' ? withPoints : instances;
  if (source === 'points' && withPoints.length < instances.length) {
    notes.push(
      `totals come from the ${withPoints.length} NDJSON file(s)` +
        `; the ${instances.length - withPoints.length} summary file(s) contribute their threshold verdicts`,
    );
    crossCheck(instances, withPoints, notes);
  }

  for (const instance of contributing) {
    for (const [name, count] of instance.checks) addCheck(merged.checks, name, count);
    if (source === 'summaries') continue;
    if (instance.startMs !== undefined) merged.startMs = Math.min(merged.startMs ?? Infinity, instance.startMs);
    if (instance.endMs !== undefined) merged.endMs = Math.max(merged.endMs ?? -Infinity, instance.endMs);
    for (const [name, aggregate] of instance.points) {
      let target = merged.points.get(name);
      if (!target) merged.points.set(name, (target = new PointAggregate(aggregate.type, aggregate.contains)));
      target.merge(aggregate);
    }
    for (const [status, n] of instance.statuses) merged.statuses.set(status, (merged.statuses.get(status) ?? 0) + n);
    for (const [start, w] of instance.windows) {
      const target = merged.windows.get(start) ?? { accepted: 0, throttled: 0, other: 0 };
      target.accepted += w.accepted;
      target.throttled += w.throttled;
      target.other += w.other;
      merged.windows.set(start, target);
    }
    for (const [key, probe] of instance.probes) {
      let target = merged.probes.get(key);
      if (!target) merged.probes.set(key, (target = new ProbeAggregate(probe.route, probe.probe)));
      target.merge(probe);
    }
    for (const record of instance.records) merged.records.push(record);
    for (const [scenario, n] of instance.dropped) merged.dropped.set(scenario, (merged.dropped.get(scenario) ?? 0) + n);
  }
  merged.records.sort((a, b) => a.sentAtMs - b.sentAtMs);

  if (source === 'points') {
    merged.durationMs = merged.startMs !== undefined && merged.endMs !== undefined ? merged.endMs - merged.startMs : 0;
    merged.metrics = [...merged.points.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, a]) => ({ name, type: a.type, values: a.values(merged.durationMs) }));
  } else {
    // Instances of one distributed run ran side by side: the run took as long as the longest.
    merged.durationMs = Math.max(0, ...instances.map(instanceDurationMs));
    merged.metrics = mergeSummaries(instances);
    if (instances.length > 1)
      notes.push(
        'from summaries only: counts are exact sums;' +
          " rates per second are the sum of the instances' rates (instances run side by side)" +
          '; trend percentiles and medians are the largest instance value, an upper bound, not the percentile of the union',
      );
  }
  merged.thresholds = mergeThresholds(merged, options.extraThresholds ?? {});
  return merged;
}

function mergeSummaries(instances: InstanceResult[]): MergedMetric[] {
  const byName = new Map<string, SummaryMetric[]>();
  for (const instance of instances) for (const [name, metric] of instance.summary) byName.set(name, [...(byName.get(name) ?? []), metric]);
  return [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, list]) => mergeSummaryMetric(name, list));
}

/** Exported for tests: how one metric's per-instance statistics combine. */
export function mergeSummaryMetric(name: string, list: SummaryMetric[]): MergedMetric {
  const type = list[0]!.type;
  const sum = (key: string) => list.reduce((s, m) => s + (m.values[key] ?? 0), 0);
  const all = (key: string) => list.every((m) => m.values[key] !== undefined);
  const values: Record<string, number> = {};
  if (list.length === 1) return { name, type, values: { ...list[0]!.values } };
  switch (type) {
    case 'counter':
      values.count = sum('count');
      if (all('rate')) values.rate = sum('rate');
      return { name, type, values };
    case 'rate': {
      values.passes = sum('passes');
      values.fails = sum('fails');
      const total = values.passes + values.fails;
      if (total > 0) values.rate = values.passes / total;
      return { name, type, values };
    }
    case 'gauge':
      values.value = sum('value');
      values.min = Math.min(...list.map((m) => m.values.min ?? Infinity));
      values.max = Math.max(...list.map((m) => m.values.max ?? -Infinity));
      return { name, type, values, approximate: "value is the sum of the instances' last values" };
    case 'trend': {
      const keys = new Set(list.flatMap((m) => Object.keys(m.values)));
      const counted = all('count');
      for (const key of keys) {
        const present = list.filter((m) => m.values[key] !== undefined);
        if (key === 'count') values.count = sum('count');
        else if (key === 'min') values.min = Math.min(...present.map((m) => m.values.min!));
        else if (key === 'max') values.max = Math.max(...present.map((m) => m.values.max!));
        else if (key === 'avg') {
          values.avg = counted
            ? list.reduce((s, m) => s + (m.values.avg ?? 0) * m.values.count!, 0) / Math.max(1, sum('count'))
            : present.reduce((s, m) => s + m.values.avg!, 0) / present.length;
        } else values[key] = Math.max(...present.map((m) => m.values[key]!));
      }
      return {
        name,
        type,
        values,
        approximate:
          `percentiles and med are the largest of ${list.length} instances (an upper bound)` +
          `; avg is ${counted ? 'count-weighted (exact)' : "the mean of the instances' averages (no counts in the summaries)"}`,
      };
    }
  }
}

/**
 * Threshold verdicts. Each instance's own verdict is kept. Intensive aggregations (rates,
 * percentiles, averages) fail when any instance failed: an instance's share of the load saw
 * them broken. Extensive ones (a counter's count or per-second rate) are judged on the merged
 * total only, since each instance saw only its execution segment. With points, the merged
 * value is computed exactly and judged as well.
 */
function mergeThresholds(merged: MergedResult, extra: Record<string, string[]>): MergedThreshold[] {
  const keyed = new Map<string, MergedThreshold>();
  const key = (metric: string, expression: string) => `${metric.replace(/\s+/g, '')}\u0000${expression.replace(/\s+/g, '')}`;
  const entry = (metric: string, expression: string): MergedThreshold => {
    const k = key(metric, expression);
    let t = keyed.get(k);
    if (!t) keyed.set(k, (t = { metric, expression, mergedExact: false, instances: [], reason: '' }));
    return t;
  };
  for (const instance of merged.instances) {
    for (const verdict of instance.thresholds) {
      const value = summaryValue(instance.summary.get(verdict.metric), verdict.expression);
      entry(verdict.metric, verdict.expression).instances.push({
        file: instance.file,
        ok: verdict.ok,
        source: 'k6',
        ...(value !== undefined ? { value } : {}),
      });
    }
  }
  const declared = new Map<string, string[]>();
  for (const instance of merged.instances)
    for (const [metric, list] of instance.thresholdDefinitions)
      declared.set(metric, [...new Set([...(declared.get(metric) ?? []), ...list])]);
  for (const [metric, list] of Object.entries(extra)) declared.set(metric, [...new Set([...(declared.get(metric) ?? []), ...list])]);
  for (const [metric, list] of declared) {
    for (const expression of list) {
      const t = entry(metric, expression);
      for (const instance of merged.instances.filter((i) => i.format === 'ndjson')) {
        const aggregate = instance.points.get(metric);
        const result = aggregate ? evaluateThreshold(expression, (stat) => aggregate.stat(stat, instanceDurationMs(instance))) : undefined;
        if (result?.ok !== undefined)
          t.instances.push({
            file: instance.file,
            ok: result.ok,
            source: 'points',
            ...(result.value !== undefined ? { value: result.value } : {}),
          });
      }
    }
  }
  for (const t of keyed.values()) judge(t, merged);
  return [...keyed.values()].sort((a, b) => a.metric.localeCompare(b.metric) || a.expression.localeCompare(b.expression));
}

function judge(t: MergedThreshold, merged: MergedResult): void {
  const parsed = parseThreshold(t.expression);
  const aggregate = merged.points.get(t.metric);
  const type = aggregate?.type ?? merged.metrics.find((m) => m.name === t.metric)?.type;
  const extensive = parsed !== undefined && type !== undefined && isExtensive(type, parsed.aggregation);
  if (merged.source === 'points' && aggregate) {
    const result = evaluateThreshold(t.expression, (stat) => aggregate.stat(stat, merged.durationMs));
    if (result.value !== undefined) t.mergedValue = result.value;
    t.mergedExact = true;
    t.ok = result.ok;
  } else {
    const metric = merged.metrics.find((m) => m.name === t.metric);
    const result = metric ? evaluateThreshold(t.expression, (stat) => metric.values[stat]) : undefined;
    if (result?.value !== undefined) t.mergedValue = result.value;
    t.mergedExact = metric !== undefined && metric.approximate === undefined;
    if (extensive) t.ok = result?.ok;
  }
  const failing = t.instances.filter((i) => !i.ok);
  if (!extensive && t.instances.length > 0) t.ok = (t.ok ?? true) && failing.length === 0;
  const shown = t.mergedValue !== undefined ? ` (merged value ${round(t.mergedValue)}${t.mergedExact ? '' : ', approximate'})` : '';
  if (t.ok === undefined) t.reason = `no data for ${t.metric}: cannot judge`;
  else if (extensive)
    t.reason =
      `${t.ok ? 'met' : 'broken'} by the merged total${shown}` +
      `; per-instance verdicts do not count for a total, each instance saw only its share`;
  else if (failing.length > 0) t.reason = `failed in ${failing.length} of ${t.instances.length} per-instance verdict(s)${shown}`;
  else if (!t.ok) t.reason = `broken by the merged data${shown}, though no single instance broke it`;
  else t.reason = `met${t.instances.length ? ` in all ${t.instances.length} per-instance verdict(s)` : ''}${shown}`;
}

function summaryValue(metric: SummaryMetric | undefined, expression: string): number | undefined {
  if (!metric) return undefined;
  return evaluateThreshold(expression, (stat) => metric.values[stat]).value;
}

function crossCheck(all: InstanceResult[], withPoints: InstanceResult[], notes: string[]): void {
  const summaryRequests = all.filter((i) => i.format !== 'ndjson').reduce((s, i) => s + (i.summary.get('http_reqs')?.values.count ?? 0), 0);
  const pointRequests = withPoints.reduce((s, i) => s + (i.points.get('http_reqs')?.sum ?? 0), 0);
  if (summaryRequests > 0 && summaryRequests !== pointRequests)
    notes.push(`the summaries count ${summaryRequests} requests, the points ${pointRequests}: were all instances' files given?`);
}

function addCheck(into: Map<string, CheckCount>, name: string, count: CheckCount): void {
  const target = into.get(name) ?? { passes: 0, fails: 0 };
  target.passes += count.passes;
  target.fails += count.fails;
  into.set(name, target);
}

export function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value * 10) / 10 : Math.round(value * 1000) / 1000;
}
