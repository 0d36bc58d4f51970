import { markdownTable } from 'markdown-table';
import type { CheckKind, CheckResult, EvidenceItem } from '../checks/types.js';
import { countByStatus, type RunReport } from './model.js';
import { renderAuth } from './render/auth.js';
import { renderCors } from './render/cors.js';
import { renderMetrics } from './render/metrics.js';
import { renderQuota } from './render/quota.js';
import { keyValueTable } from './render/table.js';
import { escapeHtml, oneLine, TABLE_OPTIONS } from './render/text.js';
import { renderThrottle, type RenderRun } from './render/throttle.js';
import { renderWaf } from './render/waf.js';

/** Kinds whose Observed has its own Markdown (tables, charts); the rest get a key/value table. */
const RENDERERS: Partial<Record<CheckKind, (result: CheckResult, run: RenderRun) => string[]>> = {
  auth: renderAuth,
  cors: renderCors,
  waf: renderWaf,
  throttle: renderThrottle,
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
const VERDICT_LINE: Record<RunReport['verdict'], string> = {
  pass: '✅ **PASS**: every check passed.',
  fail: '❌ **FAIL**: at least one check found the gateway out of policy.',
  error: '⚠️ **ERROR**: at least one check could not verify its part of the policy (see below); nothing failed outright.',
};

/** The compliance report: verdict first, then a table of checks, then a section per check. */
export function renderMarkdown(report: RunReport): string {
  const counts = countByStatus(report.checks);
  const out: string[] = [
    '# gatecheck compliance report',
    '',
    VERDICT_LINE[report.verdict],
    '',
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
    ...(report.recording ? [recordingLine(report.recording)] : []),
    ...(report.interrupted
      ? ['', '> **Run interrupted** (SIGINT/SIGTERM): checks that had not finished are `skip`; nothing they saw is judged.']
      : report.abortReason
        ? ['', `> **Run aborted:** ${report.abortReason}`]
        : []),
    '',
    markdownTable(
      [
        ['Check', 'Route', 'Status', 'Summary'],
        ...report.checks.map((c) => [
          `[${c.kind}](#${anchor(c.id)})`,
          `\`${c.route}\``,
          STATUS_MARK[c.status] ?? c.status,
          oneLine(c.summary),
        ]),
      ],
      TABLE_OPTIONS,
    ),
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

/** `gatecheck judge`: the verdicts come from a recording; nothing was sent this time. */
function recordingLine(recording: NonNullable<RunReport['recording']>): string {
  return `- Judged offline from the recording \`${recording.file}\` (gatecheck ${recording.gatecheckVersion}): no request was sent`;
}

/** A run that skipped certificate verification says so where nobody can miss it. */
function tlsLine(tls: NonNullable<RunReport['tls']>): string {
  if (tls.insecure) return "- TLS: ⚠️ certificate verification **off** (--insecure): the target's identity was not checked";
  return `- TLS: also trusting the CA certificates in \`${tls.caFile ?? '--ca'}\` (--ca)`;
}

function renderCheck(check: CheckResult, run: RenderRun): string[] {
  return [
    `<a id="${anchor(check.id)}"></a>`,
    `## ${check.kind}: ${check.route} — ${STATUS_MARK[check.status] ?? check.status}`,
    '',
    escapeHtml(check.summary),
    '',
    `_${check.requestsSent} requests, ${(check.durationMs / 1000).toFixed(1)} s._`,
    '',
    '**Expected**',
    '',
    keyValueTable(check.expected),
    '',
    '**Observed**',
    '',
    ...observedLines(check, run),
    '',
    ...(check.evidence.length ? ['**Evidence**', '', evidenceTable(check.evidence), ''] : []),
  ];
}

/** A kind's own renderer when it has one and the check observed something (a skipped check did not). */
function observedLines(check: CheckResult, run: RenderRun): string[] {
  const render = RENDERERS[check.kind];
  return render && Object.keys(check.observed).length > 0 ? render(check, run) : [keyValueTable(check.observed)];
}

function evidenceTable(items: EvidenceItem[]): string {
  return markdownTable(
    [
      ['Probe', 'Request', 'Answer', 'Headers seen', 'Outcome'],
      ...items.map((e) => [
        oneLine(e.label),
        oneLine(`${e.method} ${e.url ?? e.path}${headerList(e.requestHeaders, ' ')}`),
        oneLine(
          `${e.status ?? e.error ?? '—'}${e.latencyMs !== undefined ? ` (${e.latencyMs} ms)` : ''}` +
            `${e.bodySnippet ? ` ${e.bodySnippet.slice(0, 80)}` : ''}`,
        ),
        oneLine(headerList(e.responseHeaders, '') || '—'),
        oneLine(`${e.outcome}${e.note ? `: ${e.note}` : ''}`),
      ]),
    ],
    TABLE_OPTIONS,
  );
}

function headerList(headers: Record<string, string>, lead: string): string {
  const entries = Object.entries(headers);
  return entries.length ? lead + entries.map(([k, v]) => `${k}: ${v}`).join('; ') : '';
}

function anchor(id: string): string {
  return id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
