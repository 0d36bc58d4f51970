import type { ProbeRequest } from '../engine/http-client.js';
import type { Observation } from '../engine/observation.js';
import type { CorsPolicy, RoutePolicy } from '../policy/types.js';
import { describeAnswer, evidenceOf, isUnresolved, probeRoute, resultFor, routeRequest, type CheckContext } from './context.js';
import { corsCheck, effectiveMaxAgeSec, MAX_AGE_CAPS_SEC, nonSafelistedHeaders, preflightCheck, variesOnOrigin } from './cors-fetch.js';
import { hostileOrigins } from './cors-origins.js';
import type { CheckResult, EvidenceItem } from './types.js';

/** One CORS exchange and what it must show. */
interface CorsProbe {
  request: ProbeRequest;
  label: string;
  kind: 'preflight' | 'actual' | 'actual-error';
  origin: string;
  /** Must the browser allow it (allowed origin) or block it (hostile origin)? */
  mustAllow: boolean;
  bypass?: string;
}

export interface CorsFinding {
  probe: CorsProbe;
  observation?: Observation;
  outcome: EvidenceItem['outcome'];
  note: string;
}

/** Plans the exchanges: per allowed origin a preflight and an actual request, then hostile origins. */
export function planCorsProbes(route: RoutePolicy, cors: CorsPolicy, withCredential: (probe: string, headers: Record<string, string>) => ProbeRequest): CorsProbe[] {
  const probes: CorsProbe[] = [];
  const requestHeaders = nonSafelistedHeaders(cors.allowHeaders);
  const preflight = (origin: string, probe: string): ProbeRequest => ({
    probe,
    method: 'OPTIONS',
    path: route.path,
    // A preflight never carries credentials (Fetch): no API key, no cookie, whatever the route needs.
    headers: {
      origin,
      'access-control-request-method': route.method,
      ...(requestHeaders.length ? { 'access-control-request-headers': requestHeaders.join(',') } : {}),
    },
  });
  const listed = cors.allowOrigins.filter((o) => o !== '*');
  const allowedOrigins = listed.length > 0 ? listed : ['https://gatecheck-any.example'];
  for (const origin of allowedOrigins) {
    probes.push({ request: preflight(origin, 'cors.preflight'), label: `preflight from allowed ${origin}`, kind: 'preflight', origin, mustAllow: true });
    probes.push({ request: withCredential('cors.actual', { origin }), label: `${route.method} from allowed ${origin}`, kind: 'actual', origin, mustAllow: true });
  }
  if (route.auth?.required && listed[0]) {
    // A refused request from an allowed origin: without CORS headers the browser hides the 403/429 from the app.
    const origin = listed[0];
    probes.push({ request: { probe: 'cors.actual-error', method: route.method, path: route.path, headers: { origin } }, label: `${route.method} from ${origin} without credential (error response)`, kind: 'actual-error', origin, mustAllow: true });
  }
  if (!cors.allowOrigins.includes('*')) {
    const hostile = hostileOrigins(cors.allowOrigins);
    probes.push({ request: preflight(hostile[0]!.origin, 'cors.preflight-hostile'), label: `preflight from ${hostile[0]!.origin}`, kind: 'preflight', origin: hostile[0]!.origin, mustAllow: false, bypass: hostile[0]!.bypass });
    for (const h of hostile) {
      probes.push({ request: withCredential('cors.hostile', { origin: h.origin }), label: `${route.method} from ${h.origin}`, kind: 'actual', origin: h.origin, mustAllow: false, bypass: h.bypass });
    }
  }
  return probes;
}

/** Pure: judges one exchange as a browser would, plus the policy's own demands. */
export function judgeCorsExchange(probe: CorsProbe, observation: Observation | undefined, cors: CorsPolicy): CorsFinding {
  if (!observation || isUnresolved(observation)) return { probe, ...(observation ? { observation } : {}), outcome: 'unresolved', note: `no usable answer (${describeAnswer(observation)})` };
  const headers = observation.headers;
  const credentialed = cors.allowCredentials;
  const allowOrigin = headers['access-control-allow-origin'];
  const verdict =
    probe.kind === 'preflight'
      ? preflightCheck(observation.status!, headers, probe.origin, probe.request.headers!['access-control-request-method']!, cors.allowHeaders, credentialed)
      : corsCheck(headers, probe.origin, credentialed);

  if (!probe.mustAllow) {
    // A wildcard lets a hostile page read non-credentialed responses even though the policy lists origins.
    const readable = verdict.allowed || allowOrigin === '*';
    if (readable) return { probe, observation, outcome: 'violation', note: `${probe.bypass}: ${allowOrigin === '*' ? 'Access-Control-Allow-Origin: * although the policy lists origins' : verdict.reason}` };
    return { probe, observation, outcome: 'ok', note: `blocked: ${verdict.reason}` };
  }
  if (!verdict.allowed) return { probe, observation, outcome: 'violation', note: `allowed origin refused: ${verdict.reason}` };
  if (allowOrigin === '*' && !cors.allowOrigins.includes('*')) {
    return { probe, observation, outcome: 'violation', note: 'Access-Control-Allow-Origin: * although the policy lists origins' };
  }
  if (probe.kind === 'preflight') {
    const methods = (headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim().toUpperCase());
    // Fetch: `*` stands for every method only in answers to requests without credentials.
    const wildcard = methods.includes('*') && !credentialed;
    const missing = cors.allowMethods.filter((m) => !methods.includes(m) && !wildcard);
    if (missing.length) {
      const why = methods.includes('*') && credentialed ? ' ("*" is no wildcard for credentialed requests)' : '';
      return { probe, observation, outcome: 'violation', note: `Access-Control-Allow-Methods lacks ${missing.join(', ')}${why}` };
    }
    if (cors.maxAge !== undefined) {
      const maxAge = effectiveMaxAgeSec(headers);
      if (maxAge.declared !== cors.maxAge) return { probe, observation, outcome: 'violation', note: `Access-Control-Max-Age is ${maxAge.declared ?? 'absent (browsers use 5 s)'}, policy says ${cors.maxAge}` };
      const capped = cors.maxAge > MAX_AGE_CAPS_SEC.chromium ? ` (Chromium caps it at ${MAX_AGE_CAPS_SEC.chromium} s)` : '';
      return { probe, observation, outcome: 'ok', note: `${verdict.reason}; Max-Age ${maxAge.declared}${capped}` };
    }
  }
  return { probe, observation, outcome: 'ok', note: verdict.reason };
}

/** Pure: a response whose ACAO depends on the origin must say `Vary: Origin`, or caches mix origins up. */
export function varyFindings(findings: CorsFinding[]): string[] {
  const allowed = findings.filter((f) => f.probe.kind === 'actual' && f.probe.mustAllow && f.outcome === 'ok');
  // A 5xx or a transport failure has no CORS headers whatever the Origin: it shows no dependence on it.
  const hostile = findings.filter((f) => f.probe.kind === 'actual' && !f.probe.mustAllow && f.observation && f.outcome !== 'unresolved');
  const problems: string[] = [];
  for (const f of allowed) {
    const value = f.observation!.headers['access-control-allow-origin'];
    const dependsOnOrigin = value !== '*' && hostile.some((h) => h.observation!.headers['access-control-allow-origin'] !== value);
    if (dependsOnOrigin && !variesOnOrigin(f.observation!.headers)) problems.push(`response for ${f.probe.origin} varies by Origin but has no \`Vary: Origin\``);
  }
  return problems;
}

export async function runCorsCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const started = ctx.client.now();
  const result = resultFor('cors', route, started, ctx, ctx.budget.requestsSent);
  const cors = route.cors!;
  const probes = planCorsProbes(route, cors, (probe, headers) => routeRequest(ctx.policy, route, probe, { headers }));

  const findings: CorsFinding[] = [];
  for (const probe of probes) {
    const outcome = await probeRoute(ctx, route, probe.request);
    const finding = judgeCorsExchange(probe, outcome && !outcome.throttledOut ? outcome.final : undefined, cors);
    if (outcome?.throttledOut) finding.note = 'throttled (429) on every retry: not judged';
    findings.push(finding);
    ctx.progress(`cors ${route.id}: ${probe.label} → ${describeAnswer(outcome?.final)} ${finding.outcome}`);
  }
  const varyProblems = varyFindings(findings);
  const violations = findings.filter((f) => f.outcome === 'violation');
  const unresolved = findings.filter((f) => f.outcome === 'unresolved');
  const bypasses = violations.filter((f) => !f.probe.mustAllow).map((f) => f.probe.origin);

  const evidence = findings.map((f) => evidenceOf(ctx, f.probe.request, f.observation, f.probe.label, f.outcome, f.note));
  const expected = { allowOrigins: cors.allowOrigins, allowMethods: cors.allowMethods, allowHeaders: cors.allowHeaders, allowCredentials: cors.allowCredentials, maxAge: cors.maxAge ?? null };
  const observed = {
    exchanges: findings.length,
    bypassOrigins: bypasses,
    violations: [...violations.map((f) => `${f.probe.label}: ${f.note}`), ...varyProblems],
    unresolved: unresolved.map((f) => `${f.probe.label}: ${f.note}`),
    originsTried: [...new Set(findings.map((f) => f.probe.origin))],
  };
  const problems = [...violations.map((f) => f.note), ...varyProblems];
  if (problems.length > 0) return result('fail', `${problems.length} CORS violation(s): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`, { expected, observed, evidence });
  if (unresolved.length > 0) return result('error', `${unresolved.length} of ${findings.length} CORS exchanges got no usable answer: ${unresolved[0]!.note}`, { expected, observed, evidence });
  return result('pass', `allowed origins pass the browser's checks; ${findings.filter((f) => !f.probe.mustAllow).length} hostile origins blocked`, { expected, observed, evidence });
}
