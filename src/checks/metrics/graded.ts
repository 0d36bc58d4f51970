import { API_SCOPE } from '../../cloudwatch/queries.js';
import type { FindingDraft } from '../contract.js';
import { finding, slugPart } from '../findings.js';
import type { Severity } from '../types.js';
import type { Discrepancy, DiscrepancyKind } from './reconcile.js';

/**
 * The metrics check's graded findings (docs/findings.md): CloudWatch disagreeing with what the
 * client saw is `medium` (alarms and dashboards built on the metrics are blind to real traffic; no
 * client is refused, no way in is opened). What cannot be held against the gateway is `info`: a
 * 5xx deficit (AWS says some 5xx may be left out), CloudWatch counting more than gatecheck sent
 * (someone else shares the stage), its latency above the client's (same cause), or the client's
 * tail spent outside the gateway. A minute with no datapoint is no finding: it is why the
 * verdict is inconclusive.
 *
 * One finding per kind, metric and scope, listing its minutes: the slug never holds a minute or a
 * number, so the same gateway disagreeing the same way gets the same id on every run.
 */

interface Grading {
  severity: Severity;
  /** The finding's title for `metric` in `where` (the scope and how many minutes). */
  title: (metric: string, where: string) => string;
}

const GRADING: Partial<Record<DiscrepancyKind, Grading>> = {
  deficit: { severity: 'medium', title: (metric, where) => `CloudWatch ${metric} misses traffic the client saw (${where})` },
  deficit5xx: {
    severity: 'info',
    title: (metric, where) => `CloudWatch ${metric} counts fewer 5xx than the client saw (${where}); AWS says some may be left out`,
  },
  excess: {
    severity: 'info',
    title: (metric, where) => `CloudWatch ${metric} counts more than gatecheck sent (${where}): someone else shares the stage`,
  },
  'latency-excess': {
    severity: 'info',
    title: (metric, where) => `CloudWatch ${metric} is above the client's own (${where}): other traffic on the stage?`,
  },
  'latency-outside': {
    severity: 'info',
    title: (_metric, where) => `part of the client's latency tail is spent outside the gateway (${where})`,
  },
};

/** The discrepancies as graded findings, in the order their groups first appear. */
export function metricsFindings(discrepancies: readonly Discrepancy[]): FindingDraft[] {
  const groups = new Map<string, { grading: Grading; first: Discrepancy; all: Discrepancy[] }>();
  for (const d of discrepancies) {
    const grading = GRADING[d.kind];
    if (!grading) continue;
    const slug = `${d.kind}:${slugPart(d.metric)}:${scopeSlug(d.scope)}`;
    const group = groups.get(slug);
    if (group) group.all.push(d);
    else groups.set(slug, { grading, first: d, all: [d] });
  }
  return [...groups.entries()].map(([slug, { grading, first, all }]) =>
    finding(slug, grading.severity, grading.title(first.metric, whereOf(first.scope, all)), all.map((d) => d.text).join('; ')),
  );
}

/** `api`, `waf`, or the route key as a slug part (`get-api-items`). */
function scopeSlug(scope: string): string {
  return scope === API_SCOPE ? 'api' : slugPart(scope);
}

function whereOf(scope: string, all: readonly Discrepancy[]): string {
  const minutes = all.filter((d) => d.minuteStartMs !== undefined).length;
  const name = scope === API_SCOPE ? 'the API' : scope === 'waf' ? 'the web ACL' : scope;
  return minutes > 0 ? `${name}, ${minutes} minute${minutes === 1 ? '' : 's'}` : `${name}, over the run`;
}
