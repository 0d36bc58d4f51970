import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { markdownTable } from 'markdown-table';
import { mermaidXyChart } from '../report/charts.js';
import type { Redactor } from '../util/redact.js';
import { benchAnswers, misleadingBench } from './answers.js';
import type { StepResult } from './ladder.js';
import type { SaturateResult, ShortRun } from './saturate.js';

export interface BenchReport {
  startedAt: string;
  target: string;
  method: string;
  path: string;
  mode: 'rates' | 'saturate';
  scenario?: string;
  steps: StepResult[];
  saturation?: SaturateResult;
  gatecheckVersion: string;
}

const ms = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2));

/** "Shorter than asked: ran 0.59 s of the 2 s asked: <reason>." — in bench.md and on the console. */
export function shortRunLine(short: ShortRun): string {
  return `Shorter than asked: ran ${short.ranSec.toFixed(2)} s of the ${short.askedSec} s asked: ${short.reason}.`;
}

export function renderBenchMarkdown(report: BenchReport): string {
  const out = [
    '# gatecheck benchmark',
    '',
    `- Target: \`${report.method} ${report.target}${report.path}\``,
    `- Started: ${report.startedAt}`,
    `- Mode: ${report.mode}${report.scenario ? ` (scenario \`${report.scenario}\`)` : ''}`,
    '',
  ];
  // The same warning as on the console (where the run also exits 3), for whoever reads only this file.
  const misleading = misleadingBench(benchAnswers(report));
  if (misleading) out.push(`**Warning: ${misleading}.**`, '');
  if (report.saturation) {
    const s = report.saturation;
    const errors = `${s.errors}${s.unanswered ? ` (+${s.unanswered} unanswered)` : ''}`;
    out.push(
      '## Saturation (closed model)',
      '',
      ...(s.shortRun ? [`**${shortRunLine(s.shortRun)}**`, ''] : []),
      markdownTable([
        ['engine', 'requests/s', 'total', 'seconds', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'statuses', 'errors', 'reconnects'],
        [
          s.engine,
          s.requestsPerSec.toFixed(0),
          String(s.total),
          s.durationSec.toFixed(2),
          ms(s.latencyMs.p50),
          ms(s.latencyMs.p90),
          ms(s.latencyMs.p99),
          ms(s.latencyMs.max),
          Object.entries(s.statusCounts)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', '),
          errors,
          String(s.reconnects ?? '—'),
        ],
      ]),
      '',
      '_Closed model: throughput ceiling, not a latency measurement under a fixed arrival rate._',
      '',
    );
  }
  if (report.steps.length) {
    out.push(
      '## Rate ladder (paced open model)',
      '',
      "Latency is measured from each request's intended send time (coordinated-omission corrected).",
      '',
      markdownTable([
        [
          'step',
          'target/s',
          'achieved/s',
          'accepted/s',
          '429 share',
          'other',
          'dropped',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'p99.9 ms',
          'worst 100 ms window',
        ],
        ...report.steps.map((s) => [
          s.name,
          s.targetRatePerSec.toFixed(1),
          s.achievedRatePerSec.toFixed(1),
          s.acceptedRatePerSec.toFixed(1),
          `${(s.throttledShare * 100).toFixed(1)}%`,
          `${(s.otherShare * 100).toFixed(1)}%${s.transportErrors ? ` (+${s.transportErrors} transport)` : ''}`,
          String(s.dropped),
          ms(s.latencyMs.p50),
          ms(s.latencyMs.p90),
          ms(s.latencyMs.p99),
          ms(s.latencyMs.p999),
          Number.isNaN(s.worstWindowDeviation) ? '—' : `±${(s.worstWindowDeviation * 100).toFixed(1)}%`,
        ]),
      ]),
      '',
      mermaidXyChart({
        title: 'latency vs offered rate',
        xLabel: 'offered rate (requests/s)',
        xTicks: report.steps.map((s) => s.targetRatePerSec.toFixed(0)),
        yLabel: 'latency (ms)',
        series: [
          { type: 'line', name: 'p50', values: report.steps.map((s) => s.latencyMs.p50 ?? 0) },
          { type: 'line', name: 'p99', values: report.steps.map((s) => s.latencyMs.p99 ?? 0) },
        ],
      }),
      '',
      mermaidXyChart({
        title: 'accepted vs offered rate',
        xLabel: 'offered rate (requests/s)',
        xTicks: report.steps.map((s) => s.targetRatePerSec.toFixed(0)),
        yLabel: 'requests/s',
        series: [
          { type: 'bar', name: 'accepted/s', values: report.steps.map((s) => s.acceptedRatePerSec) },
          { type: 'line', name: 'achieved (sent)/s', values: report.steps.map((s) => s.achievedRatePerSec) },
        ],
      }),
      '',
    );
  }
  return out.join('\n');
}

export async function writeBenchReport(report: BenchReport, dir: string, redactor: Redactor): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const files = { markdown: join(dir, 'bench.md'), json: join(dir, 'bench.json') };
  await writeFile(files.markdown, redactor.redact(renderBenchMarkdown(report)));
  await writeFile(files.json, redactor.redact(JSON.stringify(report, null, 2)) + '\n');
  return files;
}
