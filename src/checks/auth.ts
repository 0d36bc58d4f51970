import { randomBytes } from 'node:crypto';
import type { ProbeRequest } from '../engine/http-client.js';
import type { Observation } from '../engine/observation.js';
import { isOkStatus, type Credential, type RoutePolicy } from '../policy/types.js';
import { credentialHeaders, describeAnswer, evidenceOf, isUnresolved, probeRoute, resultFor, type CheckContext } from './context.js';
import type { CheckResult, CheckStatus, EvidenceItem } from './types.js';

/** One way of calling the route; every variant but the control must be refused. */
export interface AuthVariant {
  probe: string;
  label: string;
  build: (route: RoutePolicy, credential: Credential) => Pick<ProbeRequest, 'path' | 'headers'>;
}

const CONTROL: AuthVariant = {
  probe: 'auth.control',
  label: 'valid credential (positive control)',
  build: (route, credential) => ({ path: route.path, headers: credentialHeaders(credential) }),
};

/** The refusal matrix. Wrong values are random, never derived from the real secret. */
export const AUTH_VARIANTS: AuthVariant[] = [
  { probe: 'auth.missing', label: 'no credential', build: (route) => ({ path: route.path, headers: {} }) },
  { probe: 'auth.empty', label: 'empty credential', build: (route, credential) => ({ path: route.path, headers: { [credential.header]: '' } }) },
  {
    probe: 'auth.wrong',
    label: 'wrong credential (random value)',
    build: (route, credential) => ({ path: route.path, headers: credentialHeaders(credential, `gatecheck-wrong-${randomBytes(12).toString('hex')}`) }),
  },
];

export interface AuthObservation {
  variant: AuthVariant;
  request: ProbeRequest;
  observation?: Observation;
  /** Every attempt was a 429: the answer says nothing about auth. */
  throttledOut: boolean;
}

export interface AuthVerdict {
  status: CheckStatus;
  summary: string;
  bypasses: string[];
  outcomes: Map<AuthObservation, EvidenceItem['outcome']>;
}

/**
 * Pure evaluation. The control must get through (not refused, not 5xx) or nothing else can be
 * read: a gateway refusing everyone would otherwise "pass". A refused variant must get a status
 * in refuseStatus; 2xx is a bypass; anything else is not the refusal the policy asks for.
 */
export function evaluateAuth(control: AuthObservation, variants: AuthObservation[], refuseStatus: number[], isOk: (status: number) => boolean): AuthVerdict {
  const outcomes = new Map<AuthObservation, EvidenceItem['outcome']>();
  const controlObs = control.observation;
  if (!controlObs || control.throttledOut || isUnresolved(controlObs) || refuseStatus.includes(controlObs.status!)) {
    outcomes.set(control, 'unresolved');
    const why = control.throttledOut ? 'was throttled (429) on every retry' : `got ${describeAnswer(controlObs)}`;
    return { status: 'error', summary: `positive control failed: the valid credential ${why}, so refusals prove nothing`, bypasses: [], outcomes };
  }
  outcomes.set(control, 'ok');

  const bypasses: string[] = [];
  const wrongRefusals: string[] = [];
  const unresolved: string[] = [];
  for (const v of variants) {
    const obs = v.observation;
    if (!obs || v.throttledOut || isUnresolved(obs)) {
      outcomes.set(v, 'unresolved');
      unresolved.push(`${v.variant.label} → ${v.throttledOut ? '429 on every retry' : describeAnswer(obs)}`);
    } else if (refuseStatus.includes(obs.status!)) {
      outcomes.set(v, 'ok');
    } else if (isOk(obs.status!)) {
      outcomes.set(v, 'violation');
      bypasses.push(`${v.variant.label} → ${obs.status}`);
    } else {
      outcomes.set(v, 'violation');
      wrongRefusals.push(`${v.variant.label} → ${obs.status} (expected ${refuseStatus.join('/')})`);
    }
  }
  if (bypasses.length > 0) return { status: 'fail', summary: `got through without a valid credential: ${bypasses.join('; ')}`, bypasses, outcomes };
  if (wrongRefusals.length > 0) return { status: 'fail', summary: `not refused as required: ${wrongRefusals.join('; ')}`, bypasses, outcomes };
  if (unresolved.length > 0) return { status: 'error', summary: `could not observe: ${unresolved.join('; ')}`, bypasses, outcomes };
  return { status: 'pass', summary: `all ${variants.length} invalid-credential variants refused (${refuseStatus.join('/')}); valid credential accepted (${controlObs.status})`, bypasses, outcomes };
}

export async function runAuthCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const started = ctx.client.now();
  const result = resultFor('auth', route, started, ctx, ctx.budget.requestsSent);
  const auth = route.auth!;
  const credential = ctx.policy.credentials[auth.credential!]!;
  const expected = { refuseStatus: auth.refuseStatus, credential: credential.name, header: credential.header, variants: AUTH_VARIANTS.map((v) => v.label) };

  const observe = async (variant: AuthVariant): Promise<AuthObservation> => {
    const request: ProbeRequest = { probe: variant.probe, method: route.method, ...variant.build(route, credential) };
    const outcome = await probeRoute(ctx, route, request);
    ctx.progress(`auth ${route.id}: ${variant.label} → ${describeAnswer(outcome?.final)}`);
    return { variant, request, throttledOut: outcome?.throttledOut ?? false, ...(outcome ? { observation: outcome.final } : {}) };
  };

  const control = await observe(CONTROL);
  const variants: AuthObservation[] = [];
  if (control.observation && !isUnresolved(control.observation)) {
    for (const variant of AUTH_VARIANTS) variants.push(await observe(variant));
  }
  const verdict = evaluateAuth(control, variants, auth.refuseStatus, (s) => isOkStatus(route, s));
  const evidence = [control, ...variants].map((v) => evidenceOf(ctx, v.request, v.observation, v.variant.label, verdict.outcomes.get(v) ?? 'info'));
  return result(verdict.status, verdict.summary, {
    expected,
    observed: Object.fromEntries([control, ...variants].map((v) => [v.variant.probe, v.observation ? describeAnswer(v.observation) : 'not sent'])),
    evidence,
  });
}
