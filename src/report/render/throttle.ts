import type { ThrottleObserved } from '../../checks/throttle/check.js';
import type { EnvelopeSeries } from '../../checks/throttle/identified.js';
import type { ThrottleTimeline } from '../../checks/throttle/timeline.js';
import type { CheckResult } from '../../checks/types.js';
import { chartFile, chartImage, type ChartSeries, type ReportChart, type XyChart } from '../charts.js';
import { k6ExportHint } from '../k6-hint.js';
import type { RunReport } from '../model.js';
import { keyValueTable } from './table.js';
import { checkName } from '../status.js';

/** What the renderer needs of the run: the policy file as the user named it, for the k6 command. */
export type RenderRun = Pick<RunReport, 'policyFile'>;

/**
 * A throttle check's observed data: the estimate as a table, the accepted/throttled timeline as
 * a chart (charts/<check>.svg) against the configured bucket, and for a client-bound verdict the
 * `gatecheck export k6` command that spreads the probe over enough load generators.
 */
export function renderThrottle(result: CheckResult, run: RenderRun): string[] {
  const observed = result.observed as Partial<ThrottleObserved> & { envelope?: EnvelopeSeries | null };
  const { timeline: _timeline, clientBound: _clientBound, envelope: _envelope, ...table } = observed;
  const hint = throttleK6Hint(result, run.policyFile);
  const charts = throttleCharts(result).flatMap((chart) => [
    '',
    chartImage(chart),
    ...(chart.file.endsWith('-envelope.svg') ? ['', ENVELOPE_READING] : []),
  ]);
  // The report puts a blank line after a section's observed lines: none at the end here.
  return [keyValueTable(table), ...(hint ? ['', hint] : []), ...charts];
}

/** The k6 export hint of a client-bound throttle check (Markdown), if it was client-bound. */
export function throttleK6Hint(result: CheckResult, policyFile: string): string | undefined {
  const clientBound = result.kind === 'throttle' ? (result.observed as Partial<ThrottleObserved>).clientBound : undefined;
  if (!clientBound) return undefined;
  return k6ExportHint(policyFile, result.route, clientBound).text;
}

/** How to read the envelope chart, under it in report.md. */
export const ENVELOPE_READING =
  '_Reading the envelope chart: the measured accepted line must stay under the dashed policy envelope ' +
  '(burstLimit + rateLimit·t); where it crosses, the gateway let through more than the policy allows, ' +
  'where it runs well below, it refused what the policy promises (the dots on it are refusals); ' +
  'the model line is what the identified limiter would have accepted, and should track the measured line._';

/**
 * The charts of a throttle check: the identification probe's cumulative accepted against the policy's envelope
 * and the model (charts/<check>-envelope.svg), and the accepted/throttled timeline (charts/<check>.svg) when
 * it measured one.
 */
export function throttleCharts(result: CheckResult): ReportChart[] {
  const observed = result.observed as Partial<ThrottleObserved> & { envelope?: EnvelopeSeries | null };
  const charts: ReportChart[] = [];
  const limits = policyLimits(result.expected);
  if (observed.envelope && observed.envelope.tMs.length > 0 && limits) {
    charts.push({
      file: chartFile(result.id, 'envelope'),
      alt: `${checkName(result)}: cumulative accepted against the policy envelope`,
      chart: envelopeChart(result.route, observed.envelope, limits),
    });
  }
  if (observed.timeline) {
    charts.push({ file: chartFile(result.id), alt: checkName(result), chart: throttleChart(result.route, observed.timeline) });
  }
  return charts;
}

function policyLimits(expected: Record<string, unknown>): { rateLimit: number; burstLimit: number } | undefined {
  const { rateLimit, burstLimit } = expected;
  return typeof rateLimit === 'number' && typeof burstLimit === 'number' ? { rateLimit, burstLimit } : undefined;
}

/**
 * Cumulative accepted over the probe (seconds since its first send) against the policy's envelope
 * burstLimit + rateLimit·t (the most a limiter within the policy admits from idle) and the identified
 * model's prediction; refusals as points on the accepted line.
 */
export function envelopeChart(routeId: string, envelope: EnvelopeSeries, limits: { rateLimit: number; burstLimit: number }): XyChart {
  const s = (ms: number) => Math.round(ms) / 1000;
  const pairs = (ys: readonly number[]): Array<[number, number]> => envelope.tMs.map((t, i) => [s(t), ys[i]!]);
  const endSec = s(envelope.tMs[envelope.tMs.length - 1]!);
  const series: ChartSeries[] = [
    { type: 'line', name: 'accepted (measured)', values: [], points: pairs(envelope.accepted) },
    {
      type: 'line',
      name: `policy envelope: ${limits.burstLimit} + ${limits.rateLimit}/s · t`,
      values: [],
      points: [
        [0, limits.burstLimit],
        [endSec, Math.round((limits.burstLimit + limits.rateLimit * endSec) * 100) / 100],
      ],
      dashed: true,
    },
  ];
  if (envelope.predicted) {
    series.push({
      type: 'line',
      name: `model: ${(envelope.model ?? 'identified').split(',')[0]}`,
      values: [],
      points: pairs(envelope.predicted),
      dashed: true,
    });
  }
  if (envelope.refusals.length > 0) {
    const shown = envelope.refusals.length < envelope.refused ? ` (${envelope.refusals.length} of ${envelope.refused} shown)` : '';
    series.push({ type: 'scatter', name: `refused${shown}`, values: [], points: envelope.refusals.map(([t, y]) => [s(t), y]) });
  }
  return {
    title: `${routeId}: cumulative accepted vs the policy envelope`,
    xLabel: 'time since the first send (s)',
    xTicks: [],
    yLabel: 'accepted (cumulative)',
    xAxis: 'value',
    series,
  };
}

/** Accepted and throttled per window against what the configured bucket would have accepted. */
export function throttleChart(routeId: string, timeline: ThrottleTimeline): XyChart {
  const { windowMs, bucket } = timeline;
  return {
    title: `${routeId}: accepted per ${windowMs} ms`,
    xLabel: 'time since volley (s)',
    xTicks: timeline.accepted.map((_, i) => ((i * windowMs) / 1000).toFixed(1)),
    yLabel: 'requests',
    series: [
      { type: 'bar', name: 'accepted (observed)', values: timeline.accepted },
      {
        type: 'line',
        name: `accepted by a bucket of ${bucket.burstLimit} at ${bucket.rateLimit}/s (theory)`,
        values: timeline.theoretical,
      },
      { type: 'line', name: 'throttled (observed 429)', values: timeline.throttled },
    ],
  };
}
