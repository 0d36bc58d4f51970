import { readFile, writeFile } from 'node:fs/promises';
import { markdownTable } from 'markdown-table';
import type { CheckResult } from '../checks/types.js';
import { mermaidXyChart } from '../report/charts.js';
import type { GateOptions } from '../gate/gate.js';
import { REPORT_SCHEMA_VERSION, withGate, type RunReport } from '../report/model.js';
import type { SarifSource } from '../report/sarif.js';
import { writeReports, type WrittenReport } from '../report/write.js';
import type { Redactor } from '../util/redact.js';
import type { MergedResult } from './merge.js';
import { round } from './merge.js';

/**
 * The report of a k6 run or import: the usual report.md/json/junit (checks as always), plus a
 * "k6 results" section in report.md and a `k6` object in report.json with the merged totals,
 * each instance's figures, and the thresholds with every instance's verdict.
 */
export interface K6ReportInput {
  merged: MergedResult;
  checks: CheckResult[];
  policyFile: string;
  target: string;
  version: string;
  startedAt: Date;
  finishedAt: Date;
  limits: RunReport['limits'];
  notSelected?: string[];
  gate: GateOptions;
}

export type K6RunReport = RunReport & { engine: 'k6'; k6: K6Totals };

export interface K6Totals {
  source: MergedResult['source'];
  instances: Array<{
    file: string;
    format: string;
    k6Version?: string;
    instanceIds: string[];
    requests: number | null;
    durationMs: number | null;
  }>;
  requests: number;
  durationMs: number;
  metrics: Array<{ name: string; type: string; values: Record<string, number>; approximate?: string }>;
  statuses: Record<string, number>;
  checks: Record<string, { passes: number; fails: number }>;
  thresholds: Array<{
    metric: string;
    expression: string;
    ok: boolean | null;
    mergedValue: number | null;
    mergedExact: boolean;
    instances: Array<{ file: string; ok: boolean; value: number | null; source: string }>;
  }>;
  droppedIterations: Record<string, number>;
  notes: string[];
}

export function buildK6Report(input: K6ReportInput): K6RunReport {
  const k6 = k6Totals(input.merged);
  const report: Omit<RunReport, 'gate' | 'verdict'> & { engine: 'k6'; k6: K6Totals } = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.merged.durationMs,
    target: input.target,
    policyFile: input.policyFile,
    gatecheckVersion: input.version,
    requestsSent: k6.requests,
    limits: input.limits,
    notSelected: input.notSelected ?? [],
    checks: input.checks,
    engine: 'k6' as const,
    k6,
  };
  return { ...withGate(report, input.gate), engine: 'k6', k6 };
}

export function k6Totals(merged: MergedResult): K6Totals {
  const requestsOf = (name: string) => merged.metrics.find((m) => m.name === name)?.values.count;
  return {
    source: merged.source,
    instances: merged.instances.map((i) => {
      const requests = i.format === 'ndjson' ? (i.points.get('http_reqs')?.sum ?? 0) : (i.summary.get('http_reqs')?.values.count ?? null);
      const durationMs = i.durationMs ?? (i.startMs !== undefined && i.endMs !== undefined ? i.endMs - i.startMs : null);
      return {
        file: i.file,
        format: i.format,
        ...(i.k6Version ? { k6Version: i.k6Version } : {}),
        instanceIds: i.instanceIds,
        requests,
        durationMs: durationMs === null ? null : Math.round(durationMs),
      };
    }),
    requests: requestsOf('http_reqs') ?? 0,
    durationMs: Math.round(merged.durationMs),
    metrics: merged.metrics.map((m) => ({
      name: m.name,
      type: m.type,
      values: Object.fromEntries(
        Object.entries(m.values)
          .sort(([a], [b]) => statOrder(a) - statOrder(b) || a.localeCompare(b))
          .map(([k, v]) => [k, round(v)]),
      ),
      ...(m.approximate ? { approximate: m.approximate } : {}),
    })),
    statuses: Object.fromEntries([...merged.statuses].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n])),
    checks: Object.fromEntries([...merged.checks].sort(([a], [b]) => a.localeCompare(b))),
    thresholds: merged.thresholds.map((t) => ({
      metric: t.metric,
      expression: t.expression,
      ok: t.ok ?? null,
      mergedValue: t.mergedValue === undefined ? null : round(t.mergedValue),
      mergedExact: t.mergedExact,
      instances: t.instances.map((i) => ({
        file: i.file,
        ok: i.ok,
        value: i.value === undefined ? null : round(i.value),
        source: i.source,
      })),
    })),
    droppedIterations: Object.fromEntries([...merged.dropped].sort(([a], [b]) => a.localeCompare(b))),
    notes: merged.notes,
  };
}

const STAT_ORDER = ['count', 'rate', 'passes', 'fails', 'value', 'avg', 'min', 'med', 'max'];

/** count, rate, …, then percentiles in increasing order. */
function statOrder(stat: string): number {
  const i = STAT_ORDER.indexOf(stat);
  if (i >= 0) return i;
  const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  return p ? 100 + Number(p[1]) : 1000;
}

/** The k6 section of report.md. */
export function renderK6Section(merged: MergedResult): string {
  const totals = k6Totals(merged);
  const cell = (v: string | number | null | undefined) =>
    String(v ?? '—')
      .replace(/\|/g, '\\|')
      .replace(/\r?\n/g, ' ');
  const totalsSource =
    merged.source === 'points'
      ? 'the NDJSON points (exact: counters summed, latency histograms merged)'
      : 'the summaries (counts exact; percentiles approximate, see below)';
  const out: string[] = [
    '## k6 results',
    '',
    `${totals.instances.length} file(s) merged; totals from ${totalsSource}. ` +
      `${totals.requests} requests over ${(totals.durationMs / 1000).toFixed(1)} s.`,
    '',
    markdownTable([
      ['File', 'Format', 'k6', 'Instance', 'Requests', 'Duration (s)'],
      ...totals.instances.map((i) => [
        cell(i.file),
        i.format,
        i.k6Version ?? '—',
        i.instanceIds.join(', ') || '—',
        cell(i.requests),
        i.durationMs === null ? '—' : (i.durationMs / 1000).toFixed(1),
      ]),
    ]),
    '',
    ...totals.notes.map((n) => `> ${n}`),
    ...(totals.notes.length ? [''] : []),
    '**Metrics (merged)**',
    '',
    markdownTable([
      ['Metric', 'Type', 'Values', 'Merge'],
      ...totals.metrics.map((m) => [
        cell(m.name),
        m.type,
        cell(
          Object.entries(m.values)
            .map(([k, v]) => `${k}=${v}`)
            .join(', '),
        ),
        cell(m.approximate ?? 'exact'),
      ]),
    ]),
    '',
  ];
  if (Object.keys(totals.statuses).length)
    out.push(
      '**Requests by status**',
      '',
      markdownTable([
        ['Status', 'Requests'],
        ...Object.entries(totals.statuses).map(([s, n]) => [s === '0' ? '0 (no response)' : s, String(n)]),
      ]),
      '',
    );
  if (merged.probes.size) {
    out.push(
      '**Requests by route and probe**',
      '',
      markdownTable([
        ['Route', 'Probe', 'Requests', 'Expected answers', 'Statuses', 'p50 / p99 ms (expected)'],
        ...[...merged.probes.values()]
          .sort((a, b) => a.route.localeCompare(b.route) || a.probe.localeCompare(b.probe))
          .map((p) => [
            cell(p.route),
            p.probe,
            String(p.requests),
            String(p.expected),
            [...p.statuses]
              .sort(([a], [b]) => a - b)
              .map(([s, n]) => `${s}: ${n}`)
              .join(', '),
            p.latency.count ? `${round(p.latency.percentileMs(50)!)} / ${round(p.latency.percentileMs(99)!)}` : '—',
          ]),
      ]),
      '',
    );
  }
  if (totals.thresholds.length) {
    out.push(
      '**Thresholds** (any failing instance fails an intensive threshold; counter totals are judged merged)',
      '',
      markdownTable([
        ['Metric', 'Threshold', 'Merged', 'Merged value', 'Instances'],
        ...totals.thresholds.map((t) => [
          cell(t.metric),
          cell(t.expression),
          t.ok === null ? 'no data' : t.ok ? 'ok' : 'FAILED',
          t.mergedValue === null ? '—' : `${t.mergedValue}${t.mergedExact ? '' : ' (approx.)'}`,
          cell(
            t.instances
              .map((i) => `${i.file.split(/[\\/]/).pop()}: ${i.ok ? 'ok' : 'FAILED'}${i.value !== null ? ` (${i.value})` : ''}`)
              .join('; ') || '—',
          ),
        ]),
      ]),
      '',
    );
  }
  if (Object.keys(totals.checks).length)
    out.push(
      '**k6 checks**',
      '',
      markdownTable([
        ['Check', 'Passes', 'Fails'],
        ...Object.entries(totals.checks).map(([n, c]) => [cell(n), String(c.passes), String(c.fails)]),
      ]),
      '',
    );
  if (Object.keys(totals.droppedIterations).length)
    out.push(
      `**Dropped iterations** (k6 could not start them on time: client-bound): ${Object.entries(totals.droppedIterations)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ')}`,
      '',
    );
  const chart = timelineChart(merged);
  if (chart) out.push(chart, '');
  return out.join('\n');
}

/** Requests per window over the whole run, all instances together; windows widened to at most 120 bars. */
function timelineChart(merged: MergedResult): string | undefined {
  if (merged.windows.size === 0) return undefined;
  const starts = [...merged.windows.keys()].sort((a, b) => a - b);
  const first = starts[0]!;
  const span = starts[starts.length - 1]! - first + merged.windowMs;
  const windowMs = Math.max(merged.windowMs, Math.ceil(span / 120 / merged.windowMs) * merged.windowMs);
  const bars = Math.ceil(span / windowMs);
  const series = {
    accepted: new Array<number>(bars).fill(0),
    throttled: new Array<number>(bars).fill(0),
    other: new Array<number>(bars).fill(0),
  };
  for (const [start, w] of merged.windows) {
    const i = Math.min(bars - 1, Math.floor((start - first) / windowMs));
    series.accepted[i]! += w.accepted;
    series.throttled[i]! += w.throttled;
    series.other[i]! += w.other;
  }
  return mermaidXyChart({
    title: `Requests per ${windowMs} ms, all instances (by send time)`,
    xLabel: 'time (s)',
    xTicks: series.accepted.map((_, i) => ((i * windowMs) / 1000).toFixed(1)),
    yLabel: 'requests',
    series: [
      { type: 'bar', name: 'accepted (expected answer)', values: series.accepted },
      { type: 'line', name: 'throttled (429)', values: series.throttled },
      { type: 'line', name: 'other (unexpected status or no response)', values: series.other },
    ],
  });
}

/** writeReports, then the k6 section inserted into report.md before its footer. */
export async function writeK6Report(
  report: K6RunReport,
  merged: MergedResult,
  dir: string,
  redactor: Redactor,
  sarif?: SarifSource,
): Promise<WrittenReport> {
  const written = await writeReports(report, dir, redactor, sarif);
  const markdown = await readFile(written.files.markdown, 'utf8');
  const section = redactor.redact(renderK6Section(merged));
  const footer = markdown.lastIndexOf('\n---\n');
  const next = footer >= 0 ? `${markdown.slice(0, footer)}\n${section}${markdown.slice(footer)}` : `${markdown}\n${section}`;
  await writeFile(written.files.markdown, next);
  return written;
}
