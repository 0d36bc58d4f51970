import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckResult } from '../checks/types.js';
import { renderSvgChart, type ReportChart } from './charts.js';
import type { Redactor } from '../util/redact.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { RunReport } from './model.js';
import { metricsCharts } from './render/metrics.js';
import { throttleCharts } from './render/throttle.js';
import { renderSarif, type SarifSource } from './sarif.js';

export interface WrittenReport {
  dir: string;
  files: { markdown: string; json: string; junit: string; sarif: string };
  /** The SVG charts report.md shows (charts/*.svg), as paths. */
  charts: string[];
}

/** The charts report.md references, by the kind that draws them. */
export function reportCharts(checks: readonly CheckResult[]): ReportChart[] {
  return checks.flatMap((check) =>
    check.kind === 'throttle' || check.kind === 'ws-throttle'
      ? throttleCharts(check)
      : check.kind === 'metrics'
        ? metricsCharts(check)
        : [],
  );
}

/**
 * Writes report.md, report.json, junit.xml, report.sarif (located in the policy file when `sarif`
 * says where it is and where its routes are; without it, the results have no location) and the
 * charts report.md shows (charts/*.svg). Evidence carries requests as sent: the model's
 * strings are redacted before formatting (so placeholders are escaped like any text), and every
 * byte written passes the redactor again.
 */
export async function writeReports(unsafe: RunReport, dir: string, redactor: Redactor, sarif?: SarifSource): Promise<WrittenReport> {
  const report = redactor.redactDeep(unsafe);
  await mkdir(dir, { recursive: true });
  const files = {
    markdown: join(dir, 'report.md'),
    json: join(dir, 'report.json'),
    junit: join(dir, 'junit.xml'),
    sarif: join(dir, 'report.sarif'),
  };
  await Promise.all([
    writeFile(files.markdown, redactor.redact(renderMarkdown(report))),
    writeFile(files.json, redactor.redact(JSON.stringify(report, null, 2)) + '\n'),
    writeFile(files.junit, redactor.redact(renderJunit(report))),
    writeFile(files.sarif, redactor.redact(renderSarif(report, sarif))),
  ]);
  const charts: string[] = [];
  for (const chart of reportCharts(report.checks)) {
    const file = join(dir, chart.file);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, redactor.redact(await renderSvgChart(chart.chart)));
    charts.push(file);
  }
  return { dir, files, charts };
}

/** Creates the directory and checks it can be written to; throws the file system's error otherwise. */
export async function prepareReportDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
}

/** reports/2026-11-25T10-33-51Z: sortable, and valid on every file system. */
export function defaultReportDir(startedAt: Date, base = 'reports'): string {
  return join(
    base,
    startedAt
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/:/g, '-'),
  );
}
