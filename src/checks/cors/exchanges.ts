/**
 * The CORS exchanges (kind `cors`, see check.ts): which requests a browser would make for the
 * route's policy, and how a browser (fetch-rules.ts) and the policy judge each answer. Pure.
 */
import type { ProbeRequest } from '../../engine/http-client.js';
import type { Observation } from '../../engine/observation.js';
import type { CorsPolicy, RoutePolicy } from '../../policy/types.js';
import { describeAnswer, isUnresolved } from '../context.js';
import type { EvidenceItem } from '../types.js';
import {
  browserCorsCheck,
  effectiveMaxAgeSec,
  MAX_AGE_CAPS_SEC,
  nonSafelistedHeaders,
  preflightCheck,
  variesOnOrigin,
} from './fetch-rules.js';
import { hostileOrigins } from './origins.js';

/** One CORS exchange and what it must show. */
export interface CorsProbe {
  request: ProbeRequest;
  label: string;
  kind: 'preflight' | 'actual' | 'actual-error';
  origin: string;
  /** Must the browser allow it (allowed origin) or block it (hostile origin)? */
  mustAllow: boolean;
  bypass?: string;
}

/**
 * What is wrong with one exchange (a `violation`), the most severe first when several are: grading.ts
 * turns these into graded findings.
 * - hostile-readable: a hostile origin can read the answer (or pass the preflight).
 * - wildcard: `Access-Control-Allow-Origin: *` although the policy lists origins.
 * - refused: the browser refuses an exchange the policy allows (the browser app breaks).
 * - error-without-cors: a refusal (4xx) the browser hides from the page: no usable CORS headers on it.
 * - credentials-allowed: `Access-Control-Allow-Credentials: true` although the policy says false.
 * - methods-missing: Access-Control-Allow-Methods lacks a method the policy allows (not the route's own).
 * - max-age: Access-Control-Max-Age differs from the policy's.
 */
export type CorsProblem =
  'hostile-readable' | 'wildcard' | 'refused' | 'error-without-cors' | 'credentials-allowed' | 'methods-missing' | 'max-age';

/** One exchange judged: its outcome, why, and for a violation what kind of problem it shows. */
export interface CorsFinding {
  probe: CorsProbe;
  observation?: Observation;
  outcome: EvidenceItem['outcome'];
  note: string;
  problem?: CorsProblem;
}

/** Plans the exchanges: per allowed origin a preflight and an actual request, then hostile origins. */
export function planCorsProbes(
  route: RoutePolicy,
  cors: CorsPolicy,
  withCredential: (probe: string, headers: Record<string, string>) => ProbeRequest,
): CorsProbe[] {
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
    probes.push({
      request: preflight(origin, 'cors.preflight'),
      label: `preflight from allowed ${origin}`,
      kind: 'preflight',
      origin,
      mustAllow: true,
    });
    probes.push({
      request: withCredential('cors.actual', { origin }),
      label: `${route.method} from allowed ${origin}`,
      kind: 'actual',
      origin,
      mustAllow: true,
    });
  }
  if (route.auth?.required && listed[0]) {
    // A refused request from an allowed origin: without CORS headers the browser hides the 403/429 from the app.
    const origin = listed[0];
    probes.push({
      request: { probe: 'cors.actual-error', method: route.method, path: route.path, headers: { origin } },
      label: `${route.method} from ${origin} without credential (error response)`,
      kind: 'actual-error',
      origin,
      mustAllow: true,
    });
  }
  if (!cors.allowOrigins.includes('*')) {
    const hostile = hostileOrigins(cors.allowOrigins);
    probes.push({
      request: preflight(hostile[0]!.origin, 'cors.preflight-hostile'),
      label: `preflight from ${hostile[0]!.origin}`,
      kind: 'preflight',
      origin: hostile[0]!.origin,
      mustAllow: false,
      bypass: hostile[0]!.bypass,
    });
    for (const h of hostile) {
      probes.push({
        request: withCredential('cors.hostile', { origin: h.origin }),
        label: `${route.method} from ${h.origin}`,
        kind: 'actual',
        origin: h.origin,
        mustAllow: false,
        bypass: h.bypass,
      });
    }
  }
  return probes;
}

/** Pure: judges one exchange as a browser would, plus the policy's own demands. */
export function judgeCorsExchange(probe: CorsProbe, observation: Observation | undefined, cors: CorsPolicy): CorsFinding {
  if (!observation || isUnresolved(observation))
    return {
      probe,
      ...(observation ? { observation } : {}),
      outcome: 'unresolved',
      note: `no usable answer (${describeAnswer(observation)})`,
    };
  return probe.mustAllow ? judgeAllowed(probe, observation, cors) : judgeHostile(probe, observation, cors);
}

/** The browser's verdict on one answer (a preflight asks for the policy's headers), for a page that sends credentials or not. */
function browserVerdict(probe: CorsProbe, observation: Observation, cors: CorsPolicy, credentialed: boolean) {
  const headers = observation.headers;
  if (probe.kind !== 'preflight') return browserCorsCheck(headers, probe.origin, credentialed);
  const method = probe.request.headers!['access-control-request-method']!;
  return preflightCheck(observation.status!, headers, probe.origin, method, cors.allowHeaders, credentialed);
}

/**
 * A hostile page chooses how it asks: without credentials (a wildcard or an echoed origin lets it read)
 * or with them (an echoed origin plus Allow-Credentials: true lets it read as the user).
 */
function judgeHostile(probe: CorsProbe, observation: Observation, cors: CorsPolicy): CorsFinding {
  const headers = observation.headers;
  const allowOrigin = headers['access-control-allow-origin'];
  const verdict = browserVerdict(probe, observation, cors, false);
  if (!verdict.allowed) return { probe, observation, outcome: 'ok', note: `blocked: ${verdict.reason}` };
  const why = allowOrigin === '*' ? 'Access-Control-Allow-Origin: * although the policy lists origins' : verdict.reason;
  const asUser = allowOrigin !== '*' && headers['access-control-allow-credentials'] === 'true' ? " (with the user's credentials)" : '';
  return { probe, observation, outcome: 'violation', note: `${probe.bypass}: ${why}${asUser}`, problem: 'hostile-readable' };
}

function judgeAllowed(probe: CorsProbe, observation: Observation, cors: CorsPolicy): CorsFinding {
  const headers = observation.headers;
  const verdict = browserVerdict(probe, observation, cors, cors.allowCredentials);
  const violation = (problem: CorsProblem, note: string): CorsFinding => ({ probe, observation, outcome: 'violation', note, problem });
  if (!verdict.allowed) {
    const refusal = probe.kind === 'actual-error' && observation.status! >= 400;
    if (refusal) return violation('error-without-cors', `the ${observation.status} is hidden from the page: ${verdict.reason}`);
    return violation('refused', `allowed origin refused: ${verdict.reason}`);
  }
  if (headers['access-control-allow-origin'] === '*' && !cors.allowOrigins.includes('*'))
    return violation('wildcard', 'Access-Control-Allow-Origin: * although the policy lists origins');
  if (!cors.allowCredentials && headers['access-control-allow-credentials'] === 'true')
    return violation('credentials-allowed', 'Access-Control-Allow-Credentials: true although the policy says allowCredentials: false');
  if (probe.kind !== 'preflight') return { probe, observation, outcome: 'ok', note: verdict.reason };
  const methods = (headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim().toUpperCase());
  // Fetch: `*` stands for every method only in answers to requests without credentials.
  const wildcard = methods.includes('*') && !cors.allowCredentials;
  const missing = cors.allowMethods.filter((m) => !methods.includes(m) && !wildcard);
  if (missing.length) {
    const why = methods.includes('*') && cors.allowCredentials ? ' ("*" is no wildcard for credentialed requests)' : '';
    return violation('methods-missing', `Access-Control-Allow-Methods lacks ${missing.join(', ')}${why}`);
  }
  if (cors.maxAge === undefined) return { probe, observation, outcome: 'ok', note: verdict.reason };
  const maxAge = effectiveMaxAgeSec(headers);
  if (maxAge.declared !== cors.maxAge)
    return violation('max-age', `Access-Control-Max-Age is ${maxAge.declared ?? 'absent (browsers use 5 s)'}, policy says ${cors.maxAge}`);
  const capped = cors.maxAge > MAX_AGE_CAPS_SEC.chromium ? ` (Chromium caps it at ${MAX_AGE_CAPS_SEC.chromium} s)` : '';
  return { probe, observation, outcome: 'ok', note: `${verdict.reason}; Max-Age ${maxAge.declared}${capped}` };
}

/**
 * What one exchange means for a page at that origin, in words: progress lines said "GET from
 * https://evil.example → 200 ok", which reads like an alarm when the 200 is unreadable there.
 */
export function exchangeMeaning(f: CorsFinding): string {
  if (f.outcome === 'unresolved') return `unresolved (${f.note})`;
  // An allowed origin's violation is about a header (wildcard, Max-Age...) unless the browser refused it.
  const passes = f.probe.mustAllow ? f.problem !== 'refused' && f.problem !== 'error-without-cors' : f.outcome === 'violation';
  const what =
    f.probe.kind === 'preflight'
      ? `preflight ${passes ? 'passed' : 'refused'} for that origin`
      : `${passes ? 'readable' : 'not readable'} by that origin`;
  return f.outcome === 'ok' ? `${what} (ok)` : `${what} (violation: ${f.note})`;
}

/** Pure: a response whose ACAO depends on the origin must say `Vary: Origin`, or caches mix origins up. */
export function varyFindings(findings: CorsFinding[]): string[] {
  return lackingVary(findings).map((f) => `response for ${f.probe.origin} varies by Origin but has no \`Vary: Origin\``);
}

/** The allowed origins' answers whose ACAO depends on the Origin (the hostile answers show it) without `Vary: Origin`. */
export function lackingVary(findings: CorsFinding[]): CorsFinding[] {
  const allowed = findings.filter((f) => f.probe.kind === 'actual' && f.probe.mustAllow && f.outcome === 'ok');
  // A 5xx or a transport failure has no CORS headers whatever the Origin: it shows no dependence on it.
  const hostile = findings.filter((f) => f.probe.kind === 'actual' && !f.probe.mustAllow && f.observation && f.outcome !== 'unresolved');
  return allowed.filter((f) => {
    const value = f.observation!.headers['access-control-allow-origin'];
    const dependsOnOrigin = value !== '*' && hostile.some((h) => h.observation!.headers['access-control-allow-origin'] !== value);
    return dependsOnOrigin && !variesOnOrigin(f.observation!.headers);
  });
}
