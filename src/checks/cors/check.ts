/**
 * The CORS check (kind `cors`): per allowed origin a preflight and an actual request, a refused
 * request from an allowed origin, then hostile origins (origins.ts), each judged as a browser
 * would (fetch-rules.ts) plus the policy's own demands (exchanges.ts). The exchanges follow from
 * the policy alone, so evaluate plans them again and finds each one's answer by probe and Origin.
 */
import type { Observation } from '../../engine/observation.js';
import { isThrottled } from '../../engine/throttle-model.js';
import { throttleStatuses, type CorsPolicy, type RoutePolicy } from '../../policy/types.js';
import { describeAnswer, probeRoute, routeRequest } from '../context.js';
import type { CheckDefinition } from '../contract.js';
import { evidenceFrom, evidenceUnsent } from '../evidence.js';
import {
  exchangeMeaning,
  judgeCorsExchange,
  lackingVary,
  planCorsProbes,
  varyFindings,
  type CorsFinding,
  type CorsProbe,
} from './exchanges.js';
import { gradeCors } from './grading.js';

export interface CorsSpec {
  route: RoutePolicy;
  cors: CorsPolicy;
  /** The exchanges, in the order collect makes them. */
  probes: CorsProbe[];
}

/** Nothing beyond the observations: the plan is the spec's. */
export type CorsNotes = Record<string, never>;

export interface CorsObserved {
  exchanges: number;
  /** Hostile origins a browser would let read the response, each once. */
  bypassOrigins: string[];
  /** `label: why` per exchange in violation, then the answers missing `Vary: Origin`. */
  violations: string[];
  unresolved: string[];
  originsTried: string[];
}

const unique = <T>(items: T[]): T[] => [...new Set(items)];

/** Which exchange an observation answers: probe names repeat across origins, the Origin header does not. */
const exchangeKey = (probe: string, origin: string | undefined): string => `${probe} ${origin ?? ''}`;

/** Each exchange's last attempt (sendProbe retries a 429 and stops at the first other answer). */
function lastAttempts(observations: Observation[]): Map<string, Observation> {
  return new Map(observations.map((o) => [exchangeKey(o.probe, o.requestHeaders?.origin), o]));
}

/** The exchange's finding; a 429 on every retry is not judged. */
function findingFor(probe: CorsProbe, last: Observation | undefined, cors: CorsPolicy, throttled: readonly number[]): CorsFinding {
  const throttledOut = last !== undefined && isThrottled(last, throttled);
  const finding = judgeCorsExchange(probe, throttledOut ? undefined : last, cors);
  if (throttledOut) finding.note = `throttled (${last.status}) on every retry: not judged`;
  return finding;
}

export const corsCheck: CheckDefinition<'cors', CorsSpec, CorsObserved, CorsNotes> = {
  kind: 'cors',
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => {
      const cors = route.cors;
      if (!cors) return [];
      const probes = planCorsProbes(route, cors, (probe, headers) => routeRequest(policy, route, probe, { headers }));
      return [{ route: route.id, idSuffix: '', spec: { route, cors, probes } }];
    }),
  expected: ({ cors }) => ({
    allowOrigins: cors.allowOrigins,
    allowMethods: cors.allowMethods,
    allowHeaders: cors.allowHeaders,
    allowCredentials: cors.allowCredentials,
    maxAge: cors.maxAge ?? null,
  }),
  // One request per exchange, one after another, no waits.
  plan: ({ probes }) => ({ requests: probes.length, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, { route, cors, probes }) => {
    for (const probe of probes) {
      const outcome = await probeRoute(ctx, route, probe.request);
      const finding = findingFor(probe, outcome?.final, cors, throttleStatuses(route));
      // Say what the answer means for that origin: a hostile origin's bare "200" reads like an alarm.
      ctx.progress(`cors ${route.id}: ${probe.label} → ${describeAnswer(outcome?.final)}: ${exchangeMeaning(finding)}`);
    }
    return {};
  },
  evaluate: ({ route, cors, probes }, { observations }, policy) => {
    const attempts = lastAttempts(observations);
    const lastOf = (probe: CorsProbe) => attempts.get(exchangeKey(probe.request.probe, probe.origin));
    const exchanges = probes.map((probe) => findingFor(probe, lastOf(probe), cors, throttleStatuses(route)));
    const unvaried = lackingVary(exchanges);
    const violations = exchanges.filter((f) => f.outcome === 'violation');
    const unresolved = exchanges.filter((f) => f.outcome === 'unresolved');
    // Evidence item i is exchange i: the findings point into it by index.
    const evidence = exchanges.map((f) => {
      // A throttled answer is not judged, but it is what came back: the evidence shows it.
      const answer = lastOf(f.probe);
      if (answer) return evidenceFrom(policy, answer, f.probe.label, f.outcome, f.note);
      const { probe, method, path, headers } = f.probe.request;
      return evidenceUnsent(policy, { probe, method, path, requestHeaders: headers ?? {} }, f.probe.label, f.outcome, f.note);
    });
    const hostile = exchanges.filter((f) => !f.probe.mustAllow);
    const observed: CorsObserved = {
      exchanges: exchanges.length,
      bypassOrigins: unique(hostile.filter((f) => f.outcome === 'violation').map((f) => f.probe.origin)),
      violations: [...violations.map((f) => `${f.probe.label}: ${f.note}`), ...varyFindings(unvaried)],
      unresolved: unresolved.map((f) => `${f.probe.label}: ${f.note}`),
      originsTried: unique(exchanges.map((f) => f.probe.origin)),
    };
    const findings = gradeCors(exchanges, unvaried);
    // Unanswered exchanges leave the verdict open: error, unless a finding that gates settles it (src/gate).
    if (unresolved.length > 0) {
      const summary = `${unresolved.length} of ${exchanges.length} CORS exchanges got no usable answer: ${unresolved[0]!.note}`;
      return { status: 'error', summary, observed, evidence, findings };
    }
    if (findings.length > 0) {
      // Each finding once, most severe first; the gate rewrites this when none of them gates.
      const titles = findings.slice(0, 3).map((f) => f.title);
      const shown = `${titles.join('; ')}${findings.length > 3 ? '; …' : ''}`;
      return { status: 'fail', summary: `${findings.length} CORS finding(s): ${shown}`, observed, evidence, findings };
    }
    // Origins, not exchanges: the first hostile origin is tried with a preflight and a request.
    const blocked = unique(hostile.map((f) => f.probe.origin)).length;
    const summary = `allowed origins pass the browser's checks; ${blocked} hostile origins blocked`;
    return { status: 'pass', summary, observed, evidence, findings };
  },
};
