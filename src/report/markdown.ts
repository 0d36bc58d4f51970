import { markdownTable } from 'markdown-table';
import type { CheckKind, CheckResult } from '../checks/types.js';
import { slug } from './charts.js';
import { countByStatus, type RunReport } from './model.js';
import { renderAuth } from './render/auth.js';
import { renderCors } from './render/cors.js';
import { renderMetrics } from './render/metrics.js';
import { renderQuota } from './render/quota.js';
import { configuredLines } from './render/configured.js';
import { evidenceLines } from './render/evidence.js';
import { checkFindingLines, gateLines, type CheckLink } from './render/findings.js';
import { keyValueTable } from './render/table.js';
import { escapeHtml, oneLine, TABLE_OPTIONS } from './render/text.js';
import { renderThrottle, type RenderRun } from './render/throttle.js';
import { renderWaf } from './render/waf.js';
import { routeLabel, statusText, summaryWithoutCounts as withoutCounts } from './status.js';

/** Kinds whose Observed has its own Markdown (tables, charts); the rest get a key/value table. */
const RENDERERS: Partial<Record<CheckKind, (result: CheckResult, run: RenderRun) => string[]>> = {
  auth: renderAuth,
  cors: renderCors,
  waf: renderWaf,
  throttle: renderThrottle,
  // The same estimate and chart, on WebSocket messages.
  'ws-throttle': renderThrottle,
  quota: renderQuota,
  metrics: renderMetrics,
};

const STATUS_MARK: Record<string, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  error: '⚠️ error',
  inconclusive: '❔ inconclusive',
  skip: '⏭️ skip',
};

/** `✅ pass · 2 low`: the status with the check's findings counted. */
function statusCell(check: CheckResult): string {
  const [, counts] = statusText(check).split(' · ');
  return `${STATUS_MARK[check.status] ?? check.status}${counts ? ` · ${counts}` : ''}`;
}

function verdictLine(report: RunReport): string {
  const failing = report.checks.filter((c) => c.status === 'fail').length;
  const listed = report.checks.flatMap((c) => c.findings).filter((f) => f.disposition !== 'gating').length;
  const below = listed ? ` ${listed} finding${listed === 1 ? '' : 's'} that did not gate ${listed === 1 ? 'is' : 'are'} listed below.` : '';
  switch (report.verdict) {
    case 'pass':
      return `✅ **PASS**: every check passed the gate.${below}`;
    case 'fail':
      return `❌ **FAIL**: ${failing} check${failing === 1 ? '' : 's'} found the gateway out of policy (a finding at or above the gate).`;
    default:
      return '⚠️ **ERROR**: at least one check could not verify its part of the policy (see below); nothing failed outright.';
  }
}

/**
 * The first screen: the verdict, the gate and the findings by severity. report.md starts with it,
 * and the CI job summary ($GITHUB_STEP_SUMMARY) shows it, with the checks table (`withChecks`);
 * in report.md the checks link to their sections.
 */
export function renderFirstScreen(report: RunReport, options: { links: boolean } = { links: true }): string {
  const link = (check: CheckResult) => (options.links ? anchor(check.id) : undefined);
  return [verdictLine(report), '', ...gateLines(report, link), checksTable(report, link)].join('\n');
}

/** The compliance report: the first screen, the run's details, then a section per check. */
export function renderMarkdown(report: RunReport): string {
  const counts = countByStatus(report.checks);
  const out: string[] = [
    '# gatecheck compliance report',
    '',
    verdictLine(report),
    '',
    ...gateLines(report, (check) => anchor(check.id)),
    `- Target: \`${report.target}\``,
    `- Policy: \`${report.policyFile}\``,
    `- Started: ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s, ${report.requestsSent} requests` +
      ` (caps: ${report.limits.maxRequests} requests, ${report.limits.maxDurationSec} s)`,
    `- Checks: ${
      Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || 'none'
    }`,
    ...(report.notSelected.length ? [`- Not selected (--only): ${report.notSelected.join(', ')}`] : []),
    ...(report.tls ? [tlsLine(report.tls)] : []),
    ...(report.drift ? driftLines(report.drift) : []),
    ...(report.recording ? [recordingLine(report.recording)] : []),
    ...(report.interrupted
      ? ['', '> **Run interrupted** (SIGINT/SIGTERM): checks that had not finished are `skip`; nothing they saw is judged.']
      : report.abortReason
        ? ['', `> **Run aborted:** ${report.abortReason}`]
        : []),
    '',
    checksTable(report, (check) => anchor(check.id)),
    '',
  ];
  for (const check of report.checks) out.push(...renderCheck(check, report));
  out.push(
    '---',
    `_gatecheck ${report.gatecheckVersion}. Secrets are shown as \`<credential NAME>\`; their values never appear in this report._`,
    '',
  );
  return out.join('\n');
}

function checksTable(report: RunReport, link: CheckLink): string {
  return markdownTable(
    [
      ['Check', 'Route', 'Status', 'Summary'],
      ...report.checks.map((c) => {
        const href = link(c);
        return [href ? `[${c.kind}](#${href})` : c.kind, `\`${routeLabel(c)}\``, statusCell(c), oneLine(withoutCounts(c))];
      }),
    ],
    TABLE_OPTIONS,
  );
}

/** `gatecheck judge`: the verdicts come from a recording; nothing was sent this time. */
function recordingLine(recording: NonNullable<RunReport['recording']>): string {
  return `- Judged offline from the recording \`${recording.file}\` (gatecheck ${recording.gatecheckVersion}): no request was sent`;
}

/** A run that skipped certificate verification says so where nobody can miss it. */
/** `run --drift`: which AWS configuration the "configured" columns come from, and what could not be read. */
function driftLines(drift: NonNullable<RunReport['drift']>): string[] {
  const { type, id, stage, region } = drift.api;
  const head = `- Drift: configured values read from ${type} API \`${escapeHtml(id)}\` stage \`${escapeHtml(stage)}\` (${region})`;
  return [
    head,
    ...drift.unreadable.map((u) => `  - not read: ${escapeHtml(oneLine(u.setting))} (${escapeHtml(u.call)}: ${escapeHtml(u.code)})`),
  ];
}

function tlsLine(tls: NonNullable<RunReport['tls']>): string {
  if (tls.insecure) return "- TLS: ⚠️ certificate verification **off** (--insecure): the target's identity was not checked";
  return `- TLS: also trusting the CA certificates in \`${tls.caFile ?? '--ca'}\` (--ca)`;
}

function renderCheck(check: CheckResult, run: RenderRun & Pick<RunReport, 'target'>): string[] {
  const id = anchor(check.id);
  const cited = new Set(check.findings.flatMap((f) => f.evidence));
  return [
    `<a id="${id}"></a>`,
    `## ${check.kind}: ${routeLabel(check)} — ${statusCell(check)}`,
    '',
    escapeHtml(withoutCounts(check)),
    '',
    `_${check.requestsSent} requests, ${(check.durationMs / 1000).toFixed(1)} s._`,
    '',
    ...checkFindingLines(check, id),
    '**Expected**',
    '',
    keyValueTable(check.expected),
    '',
    '**Observed**',
    '',
    ...observedLines(check, run),
    '',
    ...configuredLines(check),
    ...evidenceLines(check.evidence, { anchor: id, cited, target: run.target }),
  ];
}

/**
 * A kind's own renderer when it has one and the check observed something (a skipped check did not).
 * A renderer that cannot read the data (a recording from another version) falls back to the
 * generic table: the report is written whatever the shape.
 */
function observedLines(check: CheckResult, run: RenderRun): string[] {
  const render = RENDERERS[check.kind];
  if (!render || Object.keys(check.observed).length === 0) return [keyValueTable(check.observed)];
  try {
    return render(check, run);
  } catch {
    return [keyValueTable(check.observed)];
  }
}

/** The id of a check's section: its check id, lower case, dashes for the rest. */
export function anchor(id: string): string {
  return slug(id);
}
