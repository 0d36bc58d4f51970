import type { ThrottleObserved } from '../../checks/throttle/check.js';
import type { ThrottleTimeline } from '../../checks/throttle/timeline.js';
import type { CheckResult } from '../../checks/types.js';
import { chartFile, chartImage, type ReportChart, type XyChart } from '../charts.js';
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
  const { timeline: _timeline, clientBound: _clientBound, ...table } = result.observed as Partial<ThrottleObserved>;
  const hint = throttleK6Hint(result, run.policyFile);
  const charts = throttleCharts(result).map(chartImage);
  // The report puts a blank line after a section's observed lines: none at the end here.
  return [keyValueTable(table), ...(hint ? ['', hint] : []), ...charts.flatMap((image) => ['', image])];
}

/** The k6 export hint of a client-bound throttle check (Markdown), if it was client-bound. */
export function throttleK6Hint(result: CheckResult, policyFile: string): string | undefined {
  const clientBound = result.kind === 'throttle' ? (result.observed as Partial<ThrottleObserved>).clientBound : undefined;
  if (!clientBound) return undefined;
  return k6ExportHint(policyFile, result.route, clientBound).text;
}

/** The timeline chart of a throttle check, when it measured one. */
export function throttleCharts(result: CheckResult): ReportChart[] {
  const timeline = (result.observed as Partial<ThrottleObserved>).timeline;
  if (!timeline) return [];
  return [{ file: chartFile(result.id), alt: checkName(result), chart: throttleChart(result.route, timeline) }];
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
