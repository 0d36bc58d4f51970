import type { CheckKind, CheckResult } from '../checks/types.js';
import type { RunReport } from './model.js';

/**
 * report.sarif (SARIF 2.1.0) for code-scanning dashboards: one run, one rule per check kind, one
 * result per check that did not pass or skip, located at the policy file and the line of its route.
 * Once checks grade findings, each finding will be a result of its own.
 */

/** Where the results point: the policy file, relative to the working directory, and its routes' lines. */
export interface SarifSource {
  /** The policy file as a relative URI reference (forward slashes), e.g. `policies/api.yaml`. */
  policyUri: string;
  /** Route id (`GET /api/items`) → 1-based line of its entry under `routes`. */
  routeLines: Readonly<Record<string, number>>;
}

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
export const GATECHECK_URI = 'https://gatecheck.dev';

/** One rule per kind; `satisfies` makes a new kind without a rule a compile error. */
const RULES = {
  auth: 'Requests without a valid credential are refused, and the valid credential is accepted.',
  cors: 'CORS preflights and responses allow exactly the origins, methods and headers of the policy.',
  waf: 'Attack payloads are blocked at the required rate, and benign requests are let through.',
  throttle: 'The gateway throttles at the policy rate and burst (429 beyond them, not before).',
  slo: 'Latency percentiles and the error rate stay within the policy objectives.',
  quota: 'A usage-plan key is refused once its quota for the period is used up.',
  metrics: "The gateway's CloudWatch metrics account for the requests gatecheck sent.",
} satisfies Record<CheckKind, string>;

type Level = 'error' | 'warning';
const LEVELS: Partial<Record<CheckResult['status'], Level>> = { fail: 'error', error: 'warning', inconclusive: 'warning' };

export function renderSarif(report: RunReport, source?: SarifSource): string {
  const kinds = Object.keys(RULES) as CheckKind[];
  const rules = kinds.map((kind) => ({
    id: kind,
    name: `gatecheck/${kind}`,
    shortDescription: { text: RULES[kind] },
  }));
  const results = report.checks.flatMap((check) => {
    const level = LEVELS[check.status];
    return level ? [resultOf(check, level, kinds.indexOf(check.kind), source)] : [];
  });
  const sarif = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'gatecheck', version: report.gatecheckVersion, informationUri: GATECHECK_URI, rules } },
        results,
        properties: { verdict: report.verdict, target: report.target, startedAt: report.startedAt },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function resultOf(check: CheckResult, level: Level, ruleIndex: number, source: SarifSource | undefined): object {
  const line = source?.routeLines[check.route];
  const region = line !== undefined ? { region: { startLine: line } } : {};
  return {
    ruleId: check.kind,
    ruleIndex,
    level,
    message: { text: check.summary },
    // The check id names the kind and route (and the plan): the same check gets the same fingerprint in every run.
    partialFingerprints: { 'gatecheck/checkId/v1': check.id },
    ...(source ? { locations: [{ physicalLocation: { artifactLocation: { uri: source.policyUri }, ...region } }] } : {}),
    properties: { checkId: check.id, route: check.route, status: check.status },
  };
}

/** A relative file path as a URI reference: forward slashes, each segment percent-encoded. */
export function relativePathUri(path: string): string {
  return path
    .split(/[\\/]/)
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
