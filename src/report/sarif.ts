import type { CheckKind, CheckResult, Finding, Severity } from '../checks/types.js';
import type { RunReport } from './model.js';
import { checkName, routeLabel } from './status.js';

/**
 * report.sarif (SARIF 2.1.0) for code-scanning dashboards: one run; each finding a result, its rule
 * the check kind and the finding's type (`cors/origin-readable`), its level from its severity,
 * fingerprinted by the finding's stable id; a check without findings that could not decide (error,
 * inconclusive) a warning of its kind's rule. Every result is located at the policy file and the line of its route.
 */

/** Where the results point: the policy file, relative to the working directory, and its routes' lines. */
export interface SarifSource {
  /** The policy file as a relative URI reference (forward slashes), e.g. `policies/api.yaml`. */
  policyUri: string;
  /** Route id (`GET /api/items`) → 1-based line of its entry under `routes`. */
  routeLines: Readonly<Record<string, number>>;
}

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** One rule per kind; `satisfies` makes a new kind without a rule a compile error. */
const RULES = {
  auth: 'Requests without a valid credential are refused, and the valid credential is accepted.',
  sigv4: 'IAM routes refuse unsigned and wrongly signed requests (secret, region, service, clock, tampering), accept valid ones.',
  tracing: 'Answers carry X-Amzn-Trace-Id with a Root, and a Root the client sends is kept.',
  canary: "The canary takes the configured share of traffic and keeps the route's auth and CORS behaviour.",
  cors: 'CORS preflights and responses allow exactly the origins, methods and headers of the policy.',
  waf: 'Attack payloads are blocked at the required rate, and benign requests are let through.',
  throttle: 'The gateway throttles at the policy rate and burst (429 beyond them, not before).',
  slo: 'Latency percentiles and the error rate stay within the policy objectives.',
  quota: 'A usage-plan key is refused once its quota for the period is used up.',
  metrics: "The gateway's CloudWatch metrics account for the requests gatecheck sent.",
  'ws-auth': 'A WebSocket $connect without a valid credential is refused on the upgrade (401/403).',
  'ws-limits': 'WebSocket messages over the size limit are refused (close 1009) and those within it answered.',
  'ws-throttle': 'WebSocket messages are throttled at the policy rate and burst, on one connection and across connections.',
} satisfies Record<CheckKind, string>;

/** Where a reader finds what a severity means; gatecheck has no web site to link to. */
const HELP = 'The severity rules and what each finding means: docs/findings.md in the gatecheck repository.';

type Level = 'error' | 'warning' | 'note' | 'none';

/**
 * SARIF's levels (§3.27.10): error and warning for problems that matter, note for minor ones. `info`
 * (what was learned) is no problem at all: kind `informational` with level `none` (§3.27.9 says a
 * result whose kind is not `fail` has level `none`).
 */
const SEVERITY_LEVEL: Record<Severity, Level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'none' };
/** A check with no finding: a fail (one the gate has not seen) is an error; one that could not decide, a warning. */
const CHECK_LEVEL: Partial<Record<CheckResult['status'], Level>> = { fail: 'error', error: 'warning', inconclusive: 'warning' };

interface Rule {
  id: string;
  name: string;
  shortDescription: { text: string };
  help: { text: string };
}

export function renderSarif(report: RunReport, source?: SarifSource): string {
  const rules = new Rules();
  const results = report.checks.flatMap((check) => [
    ...check.findings.map((f) => findingResult(check, f, rules, source)),
    ...(check.findings.length === 0 && CHECK_LEVEL[check.status] ? [checkResult(check, rules, source)] : []),
  ]);
  const sarif = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'gatecheck', version: report.gatecheckVersion, rules: rules.list } },
        results,
        properties: { verdict: report.verdict, target: report.target, startedAt: report.startedAt, failOn: report.gate.failOn },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** The rules: one per kind first (in a fixed order), then one per finding type as results name them. */
class Rules {
  readonly list: Rule[] = (Object.keys(RULES) as CheckKind[]).map((kind) => ({
    id: kind,
    name: `gatecheck/${kind}`,
    shortDescription: { text: RULES[kind] },
    help: { text: HELP },
  }));

  /** The index of `kind/type`, added on first use. */
  indexOf(kind: CheckKind, type?: string): number {
    const id = type ? `${kind}/${type}` : kind;
    const found = this.list.findIndex((rule) => rule.id === id);
    if (found >= 0) return found;
    this.list.push({ id, name: `gatecheck/${id}`, shortDescription: { text: `${RULES[kind]} (${type ?? kind})` }, help: { text: HELP } });
    return this.list.length - 1;
  }
}

/** A finding's type: its slug up to the first colon (`bypass:missing` → `bypass`). */
export function findingType(finding: Pick<Finding, 'id'>): string {
  const slug = finding.id.slice(finding.id.indexOf('#') + 1);
  return slug.split(':')[0] || 'finding';
}

function findingResult(check: CheckResult, finding: Finding, rules: Rules, source: SarifSource | undefined): object {
  const type = findingType(finding);
  const ruleIndex = rules.indexOf(check.kind, type);
  const level = SEVERITY_LEVEL[finding.severity];
  return {
    ruleId: rules.list[ruleIndex]!.id,
    ruleIndex,
    ...(level === 'none' ? { kind: 'informational' } : {}),
    level,
    message: { text: `${namedIfPlan(check)}${finding.title}: ${finding.detail}` },
    // The finding id names the check and what was found, never a number: the same finding, the same fingerprint, run after run.
    partialFingerprints: { 'gatecheck/findingId/v1': finding.id },
    ...location(check, source),
    ...(finding.disposition === 'accepted' && finding.accepted
      ? {
          suppressions: [
            { kind: 'external', status: 'accepted', justification: `${finding.accepted.reason} (until ${finding.accepted.expires})` },
          ],
        }
      : {}),
    ...(finding.disposition === 'baseline' ? { baselineState: 'unchanged' } : {}),
    properties: {
      checkId: check.id,
      route: check.route,
      status: check.status,
      severity: finding.severity,
      disposition: finding.disposition ?? 'below-gate',
    },
  };
}

/** A check without findings that did not pass: one result of its kind's rule. */
function checkResult(check: CheckResult, rules: Rules, source: SarifSource | undefined): object {
  const ruleIndex = rules.indexOf(check.kind);
  return {
    ruleId: check.kind,
    ruleIndex,
    level: CHECK_LEVEL[check.status],
    message: { text: `${namedIfPlan(check)}${check.summary}` },
    // The check id names the kind and route (and the plan): the same check gets the same fingerprint in every run.
    partialFingerprints: { 'gatecheck/checkId/v1': check.id },
    ...location(check, source),
    properties: { checkId: check.id, route: check.route, status: check.status },
  };
}

/** A usage plan's check is located at its route's line like the route's own throttle: the message names the plan. */
function namedIfPlan(check: CheckResult): string {
  return routeLabel(check) === check.route ? '' : `${checkName(check)}: `;
}

function location(check: CheckResult, source: SarifSource | undefined): object {
  if (!source) return {};
  const line = source.routeLines[check.route];
  const region = line !== undefined ? { region: { startLine: line } } : {};
  return { locations: [{ physicalLocation: { artifactLocation: { uri: source.policyUri }, ...region } }] };
}

/** A relative file path as a URI reference: forward slashes, each segment percent-encoded. */
export function relativePathUri(path: string): string {
  return path
    .split(/[\\/]/)
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
