import { appendFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Policy } from '../policy/types.js';
import { relativePathUri, type SarifSource } from '../report/sarif.js';
import type { WrittenReport } from '../report/write.js';
import type { CliIo } from './io.js';

/**
 * What CI systems pick up besides the report files: where report.sarif points (the policy file as
 * the working directory sees it, which is the repository root in a CI job) and the job summary.
 */

/** report.sarif's locations: the policy file relative to the working directory, and the line of each route. */
export function sarifSource(io: CliIo, policyFile: string, policy: Policy): SarifSource {
  const routeLines = Object.fromEntries(policy.routes.flatMap((route) => (route.line !== undefined ? [[route.id, route.line]] : [])));
  return { policyUri: relativePathUri(relative(io.cwd, resolve(io.cwd, policyFile))), routeLines };
}

/**
 * GitHub Actions shows the Markdown appended to $GITHUB_STEP_SUMMARY on the job's page. A summary
 * that cannot be written is a warning: the verdict and the reports stand.
 */
export async function appendStepSummary(io: CliIo, markdown: string): Promise<void> {
  const file = io.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    await appendFile(resolve(io.cwd, file), `${markdown.trimEnd()}\n\n`);
  } catch (error) {
    io.stderr.write(
      `gatecheck: warning: cannot append to $GITHUB_STEP_SUMMARY (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`,
    );
  }
}

/** The "Report:" lines the commands print, one file a line, and the charts' folder when report.md has charts. */
export function writtenFiles(written: WrittenReport): string {
  const { markdown, json, junit, sarif } = written.files;
  const charts = written.charts.length ? [`${dirname(written.charts[0]!)}/ (${written.charts.length} SVG charts)`] : [];
  return `Report: ${[markdown, json, junit, sarif, ...charts].join('\n        ')}\n`;
}
