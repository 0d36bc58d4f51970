/**
 * The canary check (kind `canary`): a route with a canary release. It sends enough requests for
 * the stated precision (wilson.ts: the fewest whose Wilson interval around the configured share
 * is ±precision wide; 868 for ±2 points at 10 % and 95 %), bounded by the run's budget, tells
 * canary answers by the policy's marker, and fails (`high` `canary-share`) when the configured
 * percent lies outside the observed share's interval. Less than planned and the percent inside:
 * `inconclusive`. It also checks that the canary keeps the route's behaviour: with CORS, the
 * sample carries an allowed Origin and canary answers must carry the base's CORS headers
 * (`canary-cors`); with auth, requests without the credential must not get a canary answer
 * where the base refuses them (`bypass:unauthenticated`). See docs/canary-tracing.md.
 */
import { HealthGuard } from '../../engine/health-guard.js';
import type { ProbeRequest } from '../../engine/http-client.js';
import type { Observation } from '../../engine/observation.js';
import { isOkStatus, type CanaryPolicy, type Policy, type RoutePolicy } from '../../policy/types.js';
import { isUnresolved, routeRequest, type CheckContext } from '../context.js';
import type { CheckDefinition, FindingDraft, Verdict } from '../contract.js';
import { evidenceFrom } from '../evidence.js';
import { finding } from '../findings.js';
import type { EvidenceItem } from '../types.js';
import { mapBounded } from '../waf/pool.js';
import { requestsForPrecision, wilsonInterval } from './wilson.js';

/** Requests in flight at once: the sample is a count, not a rate, so it goes as fast as loopback allows. */
export const CANARY_CONCURRENCY = 16;
/** More than this share of the sample without a usable answer (5xx, 429, transport) and nothing is judged. */
const MAX_UNUSABLE_SHARE = 0.1;
/** Chance to miss every canary answer among the unauthenticated probes when the canary takes them. */
const AUTH_MISS_CHANCE = 1e-3;
const MAX_AUTH_PROBES = 100;
const PROBE = { sample: 'canary.sample', unauthenticated: 'canary.unauthenticated' } as const;
const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'vary'];

export interface CanarySpec {
  route: RoutePolicy;
  canary: CanaryPolicy;
  /** Requests the precision needs (Wilson, at the configured share). */
  planned: number;
  /** Unauthenticated probes: enough that a canary taking them is seen but with AUTH_MISS_CHANCE. */
  authProbes: number;
  /** An allowed Origin the sample carries (the route has CORS with listed origins). */
  origin?: string;
}

export interface CanaryNotes {
  /** Why fewer than planned were sent (the run's budget), if so. */
  short?: string;
  /** Why the sample was stopped (the gateway failing), if so. */
  stopped?: string;
}

export interface CanaryObserved {
  planned: number;
  canary: number;
  base: number;
  /** 5xx, transport errors, 429s and other non-normal answers: not counted. */
  unusable: number;
  /** canary / (canary + base), percent. */
  sharePercent?: number;
  interval?: { lowPercent: number; highPercent: number };
  configuredPercent: number;
  confidence: number;
  unauthenticated?: { sent: number; canaryAnswered: number; baseRefused: number; baseAnswered: number };
  corsDiffers?: boolean;
}

type Kind = 'canary' | 'base' | 'unusable';

/** What one answer is: the backend's normal answer marked as the canary's, unmarked, or unusable. */
export function classify(route: RoutePolicy, marker: CanaryPolicy['marker'], o: Observation): Kind {
  if (isUnresolved(o) || !isOkStatus(route, o.status!)) return 'unusable';
  return isMarked(marker, o) ? 'canary' : 'base';
}

function isMarked(marker: CanaryPolicy['marker'], o: Observation): boolean {
  if (marker.header !== undefined) return o.headers[marker.header.toLowerCase()]?.trim() === marker.value;
  if (marker.bodyField === undefined || o.bodySnippet === undefined) return false;
  try {
    const body = JSON.parse(o.bodySnippet) as Record<string, unknown>;
    const value = body[marker.bodyField];
    return (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && String(value) === marker.value;
  } catch {
    return false; // a body cut at the snippet size, or not JSON: not marked
  }
}

/** A share as percent for a sentence: 0.03 → 3, 0.999999 → 99.9999 (no float tails such as 3.0000000000000004). */
const percent = (share: number): number => Number((share * 100).toPrecision(10));

const corsSignature = (o: Observation): string => CORS_HEADERS.map((h) => `${h}=${o.headers[h] ?? ''}`).join('\n');

async function sample(ctx: CheckContext, spec: CanarySpec, request: ProbeRequest, count: number, guard: HealthGuard): Promise<number> {
  let sent = 0;
  await mapBounded(
    Array.from({ length: count }, (_, i) => i),
    CANARY_CONCURRENCY,
    async () => {
      if (!ctx.budget.take()) return;
      sent++;
      guard.record(await ctx.client.send(request));
    },
    () => guard.tripped !== undefined || ctx.budget.requestsLeft === 0 || ctx.budget.msLeft === 0,
  );
  return sent;
}

export const canaryCheck: CheckDefinition<'canary', CanarySpec, CanaryObserved, CanaryNotes> = {
  kind: 'canary',
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => {
      const canary = route.canary;
      if (!canary) return [];
      const share = canary.percent / 100;
      const origin = route.cors?.allowOrigins.find((o) => o !== '*');
      const spec: CanarySpec = {
        route,
        canary,
        planned: requestsForPrecision(share, canary.precision, canary.confidence),
        authProbes: route.auth?.required ? Math.min(MAX_AUTH_PROBES, Math.ceil(Math.log(AUTH_MISS_CHANCE) / Math.log(1 - share))) : 0,
        ...(origin !== undefined ? { origin } : {}),
      };
      return [{ route: route.id, idSuffix: '', spec }];
    }),
  expected: ({ canary, planned, authProbes, origin }) => ({
    percent: canary.percent,
    marker: canary.marker,
    precision: canary.precision,
    confidence: canary.confidence,
    requests: planned,
    ...(authProbes ? { unauthenticatedProbes: authProbes } : {}),
    ...(origin !== undefined ? { corsOrigin: origin } : {}),
  }),
  plan: ({ planned, authProbes }) => ({ requests: planned + authProbes, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, spec) => {
    const { route, canary } = spec;
    const record = canary.marker.header !== undefined ? { recordHeaders: [canary.marker.header.toLowerCase()] } : {};
    const headers: Record<string, string> = spec.origin !== undefined ? { origin: spec.origin } : {};
    const guard = new HealthGuard();
    const notes: CanaryNotes = {};
    const fits = Math.min(spec.planned, ctx.budget.requestsLeft);
    if (fits < spec.planned) notes.short = `the run's budget allowed ${fits} of the ${spec.planned} requests the precision needs`;
    ctx.progress(`canary ${route.id}: ${fits} requests for ±${percent(canary.precision)} points at ${percent(canary.confidence)}%`);
    const sent = await sample(ctx, spec, routeRequest(ctx.policy, route, PROBE.sample, { headers, ...record }), fits, guard);
    if (sent < fits && guard.tripped === undefined)
      notes.short = `the run's budget allowed ${sent} of the ${spec.planned} requests the precision needs`;
    if (guard.tripped !== undefined) notes.stopped = guard.tripped;
    else if (spec.authProbes > 0) {
      // No credential at all (no header, no signature): what an anonymous client sends.
      const anonymous: ProbeRequest = { probe: PROBE.unauthenticated, method: route.method, path: route.path, ...record };
      await sample(ctx, spec, anonymous, spec.authProbes, guard);
    }
    return notes;
  },
  evaluate: (spec, { observations, notes }, policy) => evaluateCanary(spec, observations, notes, policy),
};

/** The verdict (pure): share and interval, then the canary's auth and CORS behaviour against the base's. */
export function evaluateCanary(
  spec: CanarySpec,
  observations: Observation[],
  notes: CanaryNotes,
  policy: Pick<Policy, 'target'>,
): Verdict<CanaryObserved> {
  const { route, canary } = spec;
  const samples = observations.filter((o) => o.probe === PROBE.sample);
  const kinds = samples.map((o) => classify(route, canary.marker, o));
  const count = (k: Kind) => kinds.filter((x) => x === k).length;
  const canaryCount = count('canary');
  const baseCount = count('base');
  const unusable = count('unusable');
  const n = canaryCount + baseCount;
  const observed: CanaryObserved = {
    planned: spec.planned,
    canary: canaryCount,
    base: baseCount,
    unusable,
    configuredPercent: canary.percent,
    confidence: canary.confidence,
  };
  const evidence: EvidenceItem[] = [];
  const findings: FindingDraft[] = [];
  const show = (o: Observation, label: string, outcome: EvidenceItem['outcome'], note?: string): number =>
    evidence.push(evidenceFrom(policy, o, label, outcome, note)) - 1;
  const firstOf = (k: Kind) => samples[kinds.indexOf(k)];
  const exampleCanary = firstOf('canary');
  const exampleBase = firstOf('base');
  if (exampleCanary) show(exampleCanary, 'a canary answer (marked)', 'info');
  if (exampleBase) show(exampleBase, 'a base answer (unmarked)', 'info');

  if (notes.stopped !== undefined || n === 0 || unusable > MAX_UNUSABLE_SHARE * samples.length) {
    const example = firstOf('unusable');
    if (example) show(example, "an answer that is not the backend's normal one", 'unresolved');
    const why =
      notes.stopped ??
      `${unusable} of ${samples.length} answers were not the backend's normal answer (5xx, 429, refusals, transport errors)`;
    return { status: 'error', summary: `could not measure the split: ${why}`, observed, evidence, findings };
  }

  const interval = wilsonInterval(canaryCount, n, canary.confidence);
  const pct = (x: number) => Math.round(x * 10_000) / 100;
  observed.sharePercent = pct(canaryCount / n);
  observed.interval = { lowPercent: pct(interval.low), highPercent: pct(interval.high) };
  const configured = canary.percent / 100;
  const { lowPercent, highPercent } = observed.interval;
  const wilson = `${percent(canary.confidence)}% Wilson interval ${lowPercent}–${highPercent}%`;
  const measured = `${observed.sharePercent}% canary (${canaryCount} of ${n}; ${wilson})`;
  const outside = configured < interval.low || configured > interval.high;
  const problems: string[] = [];
  if (outside) {
    problems.push(`${measured}: the configured ${canary.percent}% lies outside`);
    const evidenceIdx = evidence.map((_, i) => i);
    findings.push(
      finding(
        'canary-share',
        'high',
        `the canary takes another share than configured`,
        `${measured}, configured ${canary.percent}%`,
        evidenceIdx,
      ),
    );
  }

  // CORS: every canary answer must carry what the base answers carry for the same Origin.
  if (spec.origin !== undefined && exampleBase && exampleCanary) {
    const baseSignatures = new Set(samples.filter((_, i) => kinds[i] === 'base').map(corsSignature));
    const odd = samples.find((o, i) => kinds[i] === 'canary' && !baseSignatures.has(corsSignature(o)));
    observed.corsDiffers = odd !== undefined;
    if (odd) {
      const idx = show(odd, `a canary answer to Origin ${spec.origin}`, 'violation', 'its CORS headers differ from the base answers');
      problems.push('canary answers carry other CORS headers than the base');
      findings.push(
        finding(
          'canary-cors',
          'high',
          'the canary answers with other CORS headers than the base',
          `Origin ${spec.origin}: a browser reads canary and base answers differently`,
          [1, idx],
        ),
      );
    }
  }

  // Auth: an anonymous request the base refuses must not get a canary answer.
  const anonymous = observations.filter((o) => o.probe === PROBE.unauthenticated);
  if (anonymous.length) {
    const canaryAnswered = anonymous.filter((o) => classify(route, canary.marker, o) === 'canary');
    const baseAnswered = anonymous.filter((o) => classify(route, canary.marker, o) === 'base').length;
    const baseRefused = anonymous.filter((o) => route.auth?.refuseStatus.includes(o.status ?? 0)).length;
    observed.unauthenticated = { sent: anonymous.length, canaryAnswered: canaryAnswered.length, baseRefused, baseAnswered };
    if (canaryAnswered.length && baseRefused > 0) {
      const idx = show(
        canaryAnswered[0]!,
        'no credential: answered by the canary',
        'violation',
        'BYPASS: the canary answered a request the base refuses',
      );
      problems.push(`the canary answered ${canaryAnswered.length} request(s) without a credential that the base refuses`);
      findings.push(
        finding(
          'bypass:unauthenticated',
          'critical',
          'the canary answers requests without a credential',
          `${canaryAnswered.length} of ${anonymous.length} anonymous requests got a canary answer; the base refused ${baseRefused}`,
          [idx],
        ),
      );
    }
  }

  if (problems.length) return { status: 'fail', summary: problems.join('; '), observed, evidence, findings };
  if (notes.short !== undefined)
    return {
      status: 'inconclusive',
      summary: `${measured}: ${notes.short}, so the stated ±${percent(canary.precision)} points are not reached`,
      observed,
      evidence,
      findings,
    };
  return { status: 'pass', summary: `${measured}: the configured ${canary.percent}% lies inside`, observed, evidence, findings };
}
