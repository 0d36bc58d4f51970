/**
 * The auth check (kind `auth`): a positive control with the valid credential, then the bypass
 * matrix of variants.ts (missing, empty, wrong, truncated, extended, case-flipped credentials;
 * the credential in the query string; forged JWTs; path spellings and method overrides without
 * a credential; differently cased header names as a control), judged by evaluate.ts.
 *
 * The random parts (the wrong value, the fresh key, the forged JWTs and their clock) are drawn
 * in collect; the probes' names, labels and groups do not depend on them, so they are known from
 * the policy (for the plan and the report's "expected") and noted for evaluate, which reads the
 * verdict from the observations alone. See docs/security-checks.md.
 */
import { randomBytes } from 'node:crypto';
import type { ProbeRequest } from '../../engine/http-client.js';
import {
  isOkStatus,
  routeCredential,
  type Credential,
  type HttpMethod,
  type Policy,
  type RoutePolicy,
  type Vendor,
} from '../../policy/types.js';
import { throttleStatuses } from '../../policy/types.js';
import { describeAnswer, isUnresolved, probeRoute } from '../context.js';
import type { CheckDefinition } from '../contract.js';
import { mapBounded } from '../waf/pool.js';
import { evaluateAuth, type AuthObservation, type AuthProbeNote, type AuthRules } from './evaluate.js';
import { answerOf, matrixResult, NOTHING_OBSERVED, type AuthObserved } from './result.js';
import { decodeJwt, freshKeyFor, jwtForgeries, type DecodedJwt, type ForgedToken, type SigningKey } from './jwt.js';
import { buildAuthMatrix, type AuthMatrix, type AuthVariant } from './variants.js';

/** Probes in flight at once after the control. */
export const AUTH_CONCURRENCY = 8;

export type { AuthObserved } from './result.js';

export interface AuthSpec {
  route: RoutePolicy;
  refuseStatus: number[];
  credential: Credential;
  vendor: Vendor;
  /** Methods another policy route answers on this path without auth: overriding to them proves nothing. */
  publicMethodsOnPath: HttpMethod[];
  /** The credential decoded, when it is kind jwt. */
  jwt?: DecodedJwt;
  /** Why nothing can be sent (a kind jwt credential that does not decode); the check is an error. */
  problem?: string;
  /** The matrix with placeholder values: its probes, labels, methods and paths are those collect sends. */
  shape: AuthMatrix;
}

/** What collect sent, in order (control first): evaluate tells the observations apart by these probes. */
export interface AuthNotes {
  probes: AuthProbeNote[];
  /** Variants left out, and why. */
  skipped: string[];
}

/** What collect draws at random: none of it changes which probes there are. */
interface Draw {
  wrongValue: string;
  nowSec: number;
  otherKey?: { alg: string; key: SigningKey };
}

/** The bypass matrix for a draw; without a key the forged JWTs are empty placeholders (the shape). */
function matrixFor(spec: Omit<AuthSpec, 'shape'>, draw: Draw): AuthMatrix {
  const { credential, jwt } = spec;
  let forgedJwts: ForgedToken[] | undefined;
  if (jwt) {
    const { otherKey } = draw;
    forgedJwts = jwtForgeries(jwt).map((f) => ({ probe: f.probe, label: f.label, value: otherKey ? f.forge(draw.nowSec, otherKey) : '' }));
    if (credential.expiredValue !== undefined) {
      forgedJwts.push({ probe: 'auth.jwt.expired', label: 'expired JWT from the issuer (expiredValue)', value: credential.expiredValue });
    }
  }
  return buildAuthMatrix({
    route: spec.route,
    credential,
    wrongValue: draw.wrongValue,
    publicMethodsOnPath: spec.publicMethodsOnPath,
    ...(forgedJwts ? { forgedJwts } : {}),
  });
}

function specFor(policy: Policy, route: RoutePolicy, credential: Credential, refuseStatus: number[]): AuthSpec {
  const publicMethodsOnPath = policy.routes.filter((r) => r !== route && r.path === route.path && !r.auth?.required).map((r) => r.method);
  const base: Omit<AuthSpec, 'shape'> = { route, refuseStatus, credential, vendor: policy.vendor, publicMethodsOnPath };
  if (credential.kind === 'jwt') {
    const jwt = decodeJwt(credential.value);
    if (jwt) base.jwt = jwt;
    else base.problem = `credential ${credential.name} is kind jwt, but its value does not decode as a JWT`;
  }
  return { ...base, shape: matrixFor(base, { wrongValue: 'gatecheck-wrong-…', nowSec: 0 }) };
}

const rulesFor = (spec: AuthSpec): AuthRules => ({
  refuseStatus: spec.refuseStatus,
  isOk: (s) => isOkStatus(spec.route, s),
  vendor: spec.vendor,
});

/** The control got the backend's normal answer: only then are the variants sent (and judged). */
function controlReached(spec: AuthSpec, control: AuthObservation): boolean {
  const o = control.observation;
  return o !== undefined && !control.throttledOut && !isUnresolved(o) && isOkStatus(spec.route, o.status!);
}

const toNote = (v: AuthVariant): AuthProbeNote => ({ probe: v.probe, label: v.label, group: v.group });
const toRequest = (v: AuthVariant): ProbeRequest => ({ probe: v.probe, method: v.method, path: v.path, headers: v.headers });

/** The request a probe was planned as (headers left out: the shape's derived values are placeholders). */
function plannedRequest(spec: AuthSpec, probe: string): { probe: string; method: string; path: string } {
  const planned = [spec.shape.control, ...spec.shape.variants].find((v) => v.probe === probe);
  return { probe, method: planned?.method ?? spec.route.method, path: planned?.path ?? spec.route.path };
}

export const authCheck: CheckDefinition<'auth', AuthSpec, AuthObserved, AuthNotes> = {
  kind: 'auth',
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => {
      const credential = routeCredential(policy, route);
      // The policy loader refuses a required auth without a known credential: nothing to select here.
      // An IAM credential signs instead of carrying a value: the sigv4 check has its own matrix.
      if (!route.auth?.required || !credential || credential.kind === 'sigv4') return [];
      return [{ route: route.id, idSuffix: '', spec: specFor(policy, route, credential, route.auth.refuseStatus) }];
    }),
  expected: ({ refuseStatus, credential, vendor, shape }) => ({
    refuseStatus,
    credential: credential.name,
    header: credential.header,
    ...(credential.kind === 'jwt' ? { kind: 'jwt' } : {}),
    vendor,
    variants: shape.variants.map((v) => v.label),
    ...(shape.skipped.length ? { skipped: shape.skipped } : {}),
  }),
  // A few dozen single requests, no waits: a 429 retry waits only inside what the run has left.
  plan: ({ problem, shape }) => ({ requests: problem ? 0 : 1 + shape.variants.length, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, spec) => {
    if (spec.problem !== undefined) return { probes: [], skipped: [] };
    const otherKey = spec.jwt ? await freshKeyFor(spec.jwt.header.alg) : undefined;
    const draw: Draw = { wrongValue: `gatecheck-wrong-${randomBytes(12).toString('hex')}`, nowSec: Math.floor(Date.now() / 1000) };
    const matrix = matrixFor(spec, otherKey ? { ...draw, otherKey } : draw);
    // Before anything is sent or written: derived values never reach a report or a log line.
    for (const secret of matrix.derived) ctx.redactor.add(secret.value, secret.label);

    const observe = async (variant: AuthVariant): Promise<AuthObservation> => {
      const outcome = await probeRoute(ctx, spec.route, toRequest(variant));
      ctx.progress(`auth ${spec.route.id}: ${variant.label} → ${describeAnswer(outcome?.final)}`);
      return { variant, throttledOut: outcome?.throttledOut ?? false, ...(outcome ? { observation: outcome.final } : {}) };
    };
    if (controlReached(spec, await observe(matrix.control))) await mapBounded(matrix.variants, AUTH_CONCURRENCY, observe);
    return { probes: [matrix.control, ...matrix.variants].map(toNote), skipped: matrix.skipped };
  },
  evaluate: (spec, { observations, notes }, policy) => {
    const [controlNote, ...variantNotes] = notes.probes;
    if (spec.problem !== undefined || !controlNote) {
      return { status: 'error', summary: spec.problem ?? 'nothing was sent', observed: NOTHING_OBSERVED, evidence: [], findings: [] };
    }
    // Probe names are unique within the matrix; a later attempt (after a 429) replaces an earlier one.
    const attempts = new Map(observations.map((o) => [o.probe, o]));
    const throttled = throttleStatuses(spec.route);
    const control = answerOf(controlNote, attempts, throttled);
    const variants = controlReached(spec, control) ? variantNotes.map((note) => answerOf(note, attempts, throttled)) : [];
    const verdict = evaluateAuth(control, variants, rulesFor(spec));
    return matrixResult(policy, verdict, [control, ...variants], (probe) => plannedRequest(spec, probe));
  },
};
