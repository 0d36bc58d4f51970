import {
  emptyInstance,
  type CheckCount,
  type InstanceFormat,
  type InstanceResult,
  type MetricType,
  type SummaryMetric,
  type ThresholdVerdict,
} from './aggregate.js';
import { K6InputError } from './errors.js';
import { isObject } from './ndjson.js';

/**
 * k6's three summary shapes, told apart by structure:
 * - handleSummary() data: `metrics[name] = {type, contains, values, thresholds?: {expr: {ok}}}`,
 *   `root_group.checks`/`groups` as arrays, plus `options` and `state.testRunDurationMs`;
 * - legacy `--summary-export`: the same metrics flattened (`metrics[name] = {avg, "p(95)", ...}`),
 *   thresholds as `{expr: true}` where **true means failed**, rate metrics' rate under `value`,
 *   checks and groups as objects keyed by name;
 * - the machine-readable summary (schema 1.0.0): `{version, metadata: {k6Version}, config:
 *   {duration}, results: {metrics: [{name, type, contains, values}], checks}}`, no thresholds.
 *   Some k6 1.7 builds wrote `k6_version`/`generated_at`: both spellings are read.
 */
export function parseSummary(document: unknown, file: string, windowMs: number): InstanceResult {
  if (!isObject(document))
    throw new K6InputError(
      file,
      `not a k6 summary: the document is ${Array.isArray(document) ? 'an array' : typeof document}, expected an object`,
      1,
    );
  if (isObject(document.results) && Array.isArray(document.results.metrics)) return machineReadable(document, file, windowMs);
  if (isObject(document.metrics)) {
    const metrics = Object.values(document.metrics);
    if (metrics.length > 0 && metrics.every((m) => isObject(m) && isObject(m.values) && typeof m.type === 'string'))
      return handleSummaryData(document, file, windowMs);
    if ('root_group' in document && metrics.every((m) => isObject(m) && !('values' in m))) return legacyExport(document, file, windowMs);
  }
  const keys = Object.keys(document).slice(0, 8).join(', ') || 'none';
  throw new K6InputError(
    file,
    `unknown k6 summary shape (top-level keys: ${keys})` +
      `; expected handleSummary() data (metrics with type/values), a --summary-export file (metrics and root_group)` +
      ` or a machine-readable summary (version, metadata, results.metrics)`,
    1,
  );
}

function handleSummaryData(doc: Record<string, unknown>, file: string, windowMs: number): InstanceResult {
  const result = emptyInstance(file, 'handle-summary', windowMs);
  for (const [name, raw] of Object.entries(doc.metrics as Record<string, Record<string, unknown>>)) {
    const type = metricType(raw.type, name, file);
    result.summary.set(name, {
      type,
      ...(typeof raw.contains === 'string' ? { contains: raw.contains } : {}),
      values: numbers(raw.values as Record<string, unknown>),
    });
    if (isObject(raw.thresholds)) {
      for (const [expression, verdict] of Object.entries(raw.thresholds)) {
        if (!isObject(verdict) || typeof verdict.ok !== 'boolean')
          throw new K6InputError(file, `metrics.${name}.thresholds[${JSON.stringify(expression)}]: expected {ok: true|false}`);
        result.thresholds.push({ metric: name, expression, ok: verdict.ok });
      }
    }
  }
  const state = doc.state;
  if (isObject(state) && typeof state.testRunDurationMs === 'number') result.durationMs = state.testRunDurationMs;
  collectChecks(doc.root_group, result.checks, file);
  return result;
}

function legacyExport(doc: Record<string, unknown>, file: string, windowMs: number): InstanceResult {
  const result = emptyInstance(file, 'summary-export', windowMs);
  for (const [name, raw] of Object.entries(doc.metrics as Record<string, Record<string, unknown>>)) {
    const values = numbers(raw);
    const type = legacyType(values, name, file);
    if (type === 'rate' && values.value !== undefined) {
      values.rate = values.value;
      delete values.value;
    }
    result.summary.set(name, { type, values });
    if (isObject(raw.thresholds)) {
      for (const [expression, failed] of Object.entries(raw.thresholds)) {
        if (typeof failed !== 'boolean')
          throw new K6InputError(
            file,
            `metrics.${name}.thresholds[${JSON.stringify(expression)}]: expected true (failed) or false (passed)`,
          );
        // The legacy export's one trap: `true` means the threshold FAILED.
        result.thresholds.push({ metric: name, expression, ok: !failed });
      }
    }
  }
  collectChecks(doc.root_group, result.checks, file);
  return result;
}

function machineReadable(doc: Record<string, unknown>, file: string, windowMs: number): InstanceResult {
  const result = emptyInstance(file, 'summary-v1', windowMs);
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const version = metadata.k6Version ?? metadata.k6_version;
  if (typeof version === 'string') result.k6Version = version;
  const config = isObject(doc.config) ? doc.config : {};
  if (typeof config.duration === 'number') result.durationMs = config.duration * 1000;
  const results = doc.results as Record<string, unknown>;
  (results.metrics as unknown[]).forEach((raw, i) => {
    if (!isObject(raw) || typeof raw.name !== 'string' || !isObject(raw.values))
      throw new K6InputError(file, `results.metrics[${i}]: expected {name, type, contains, values}`);
    const type = metricType(raw.type, raw.name, file);
    const values = numbers(raw.values);
    if (type === 'rate' && values.total !== undefined) {
      values.passes = values.matches ?? 0;
      values.fails = values.total - values.passes;
      delete values.matches;
      delete values.total;
    }
    if (type === 'counter' && values.rate === undefined && result.durationMs)
      values.rate = (values.count ?? 0) / (result.durationMs / 1000);
    result.summary.set(raw.name, { type, ...(typeof raw.contains === 'string' ? { contains: raw.contains } : {}), values });
  });
  const checks = isObject(results.checks) && Array.isArray(results.checks.results) ? results.checks.results : [];
  for (const check of checks) {
    if (isObject(check) && typeof check.name === 'string')
      addCheck(result.checks, check.name, Number(check.passes) || 0, Number(check.fails) || 0);
  }
  return result;
}

function metricType(value: unknown, name: string, file: string): MetricType {
  if (value === 'counter' || value === 'gauge' || value === 'rate' || value === 'trend') return value;
  throw new K6InputError(file, `metric ${name}: unknown type ${JSON.stringify(value)}`);
}

/** The legacy export drops `type`; each type has its own value names. */
function legacyType(values: Record<string, number>, name: string, file: string): MetricType {
  const keys = Object.keys(values);
  if ('passes' in values || 'fails' in values) return 'rate';
  if ('count' in values && 'rate' in values) return 'counter';
  if (keys.some((k) => k === 'avg' || k === 'med' || k.startsWith('p('))) return 'trend';
  if ('value' in values) return 'gauge';
  throw new K6InputError(file, `metrics.${name}: cannot tell the metric type from its values (${keys.join(', ') || 'none'})`);
}

function numbers(values: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  return out;
}

/** Checks of a group and its subgroups, by path (`::group::check`); groups are arrays or name-keyed objects. */
function collectChecks(group: unknown, into: Map<string, CheckCount>, file: string): void {
  if (!isObject(group)) return;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : isObject(value) ? Object.values(value) : []);
  for (const check of list(group.checks)) {
    if (!isObject(check) || typeof check.name !== 'string') throw new K6InputError(file, `root_group: a check without a name`);
    addCheck(
      into,
      typeof check.path === 'string' && check.path ? check.path : check.name,
      Number(check.passes) || 0,
      Number(check.fails) || 0,
    );
  }
  for (const sub of list(group.groups)) collectChecks(sub, into, file);
}

function addCheck(into: Map<string, CheckCount>, name: string, passes: number, fails: number): void {
  const count = into.get(name) ?? { passes: 0, fails: 0 };
  count.passes += passes;
  count.fails += fails;
  into.set(name, count);
}

export type { InstanceFormat, SummaryMetric, ThresholdVerdict };
