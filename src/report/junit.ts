import type { CheckResult, Finding } from '../checks/types.js';
import type { RunReport } from './model.js';
import { DISPOSITION_WORDS, routeLabel, sortFindings, statusText, summaryWithoutCounts } from './status.js';

/**
 * JUnit XML for CI dashboards: one testsuite per check kind, one testcase per check. A failing
 * check's `<failure>` says what failed the gate, finding by finding (title, then detail); every
 * check's `<system-out>` carries its summary and the findings that did not gate.
 */
export function renderJunit(report: RunReport): string {
  const byKind = new Map<string, CheckResult[]>();
  for (const check of report.checks) byKind.set(check.kind, [...(byKind.get(check.kind) ?? []), check]);
  const count = (list: CheckResult[], ...statuses: string[]) => list.filter((c) => statuses.includes(c.status)).length;
  const suites = [...byKind.entries()].map(([kind, checks]) => {
    const cases = checks.map((c) => {
      const body =
        c.status === 'fail'
          ? `<failure message="${xml(failureMessage(c))}" type="fail">${xml(findingsText(gating(c)))}</failure>`
          : c.status === 'error' || c.status === 'inconclusive'
            ? `<error message="${xml(c.summary)}" type="${c.status}"/>`
            : c.status === 'skip'
              ? `<skipped message="${xml(c.summary)}"/>`
              : '';
      return (
        `    <testcase classname="gatecheck.${xml(kind)}" name="${xml(routeLabel(c))}"` +
        ` time="${(c.durationMs / 1000).toFixed(3)}">` +
        `${body}<system-out>${xml(systemOut(c))}</system-out></testcase>`
      );
    });
    return [
      `  <testsuite name="${xml(kind)}" tests="${checks.length}"` +
        ` failures="${count(checks, 'fail')}" errors="${count(checks, 'error', 'inconclusive')}"` +
        ` skipped="${count(checks, 'skip')}" time="${(checks.reduce((s, c) => s + c.durationMs, 0) / 1000).toFixed(3)}"` +
        ` timestamp="${report.startedAt}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  const all = report.checks;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gatecheck" tests="${all.length}"` +
      ` failures="${count(all, 'fail')}" errors="${count(all, 'error', 'inconclusive')}"` +
      ` skipped="${count(all, 'skip')}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function gating(check: CheckResult): Finding[] {
  return sortFindings(check.findings.filter((f) => f.disposition === 'gating'));
}

/** The first gating finding's title (and how many more): what a dashboard shows in one line. */
function failureMessage(check: CheckResult): string {
  const [first, ...more] = gating(check);
  if (!first) return check.summary;
  return `${first.severity}: ${first.title}${more.length ? ` (and ${more.length} more)` : ''}`;
}

/** Findings as text, one paragraph each: `[severity] title`, the detail, the id. */
function findingsText(findings: readonly Finding[]): string {
  return findings.map((f) => `[${f.severity}] ${f.title}\n${f.detail}\nid: ${f.id}`).join('\n\n');
}

/** The summary and status ("pass · 2 low"), then the findings that did not gate, with what the gate did. */
function systemOut(check: CheckResult): string {
  const rest = sortFindings(check.findings.filter((f) => f.disposition !== 'gating'));
  const head = `${statusText(check)}: ${summaryWithoutCounts(check)}`;
  if (rest.length === 0) return head;
  const listed = rest.map(
    (f) => `[${f.severity}, ${DISPOSITION_WORDS[f.disposition ?? 'below-gate']}] ${f.title}\n${f.detail}\nid: ${f.id}`,
  );
  return `${head}\n\n${listed.join('\n\n')}`;
}

function xml(text: string): string {
  // Characters XML 1.0 forbids are dropped; the five specials are escaped.
  return (
    text
      // eslint-disable-next-line no-control-regex -- tab, LF and CR are named on purpose: the XML 1.0 Char production allows them
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/gu, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}
