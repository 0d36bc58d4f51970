/**
 * The sigv4 check (kind `sigv4`): routes whose auth credential is an IAM (SigV4) credential.
 * A valid signature as the positive control, then the matrix of matrix.ts (unsigned, wrong
 * secret, wrong region, wrong service, a clock outside the 5-minute skew, a signed header or
 * the body changed after signing, a signed header dropped). Each must be refused; one that gets
 * the backend's normal answer is a `critical` `bypass:<case>`. The verdict is the auth check's
 * (auth/evaluate.ts), refusals read through the same vendor profiles. docs/security-checks.md.
 */
import { randomBytes } from 'node:crypto';
import {
  isOkStatus,
  routeCredential,
  throttleStatuses,
  type Policy,
  type RoutePolicy,
  type SigV4Settings,
  type Vendor,
} from '../../policy/types.js';
import { describeAnswer, probeRoute } from '../context.js';
import type { CheckDefinition } from '../contract.js';
import { evaluateAuth, type AuthObservation, type AuthProbeNote } from '../auth/evaluate.js';
import { answerOf, matrixResult, NOTHING_OBSERVED, type AuthObserved } from '../auth/result.js';
import { mapBounded } from '../waf/pool.js';
import { buildSigV4Matrix, variantRequest, wrongScope, type SigV4Matrix, type SigV4Variant } from './matrix.js';

const CONCURRENCY = 4;

export interface SigV4Spec {
  route: RoutePolicy;
  credential: string;
  settings: SigV4Settings;
  refuseStatus: number[];
  vendor: Vendor;
  shape: SigV4Matrix;
}

export interface SigV4Notes {
  probes: AuthProbeNote[];
}

/** The auth check's observed shape: the same matrix result (auth/result.ts). */
export type SigV4Observed = AuthObserved;

const toNote = (v: SigV4Variant): AuthProbeNote => ({ probe: v.probe, label: v.label, group: 'credential' });

function controlReached(spec: SigV4Spec, control: AuthObservation): boolean {
  const o = control.observation;
  return o?.status !== undefined && !control.throttledOut && isOkStatus(spec.route, o.status);
}

/** Routes whose auth credential is kind sigv4 (the auth check leaves them to this one). */
export function sigv4Routes(policy: Policy): Array<{ route: RoutePolicy; name: string; settings: SigV4Settings }> {
  return policy.routes.flatMap((route) => {
    const credential = route.auth?.required ? routeCredential(policy, route) : undefined;
    return credential?.sigv4 ? [{ route, name: credential.name, settings: credential.sigv4 }] : [];
  });
}

export const sigv4Check: CheckDefinition<'sigv4', SigV4Spec, SigV4Observed, SigV4Notes> = {
  kind: 'sigv4',
  phase: 'route',
  select: (policy) =>
    sigv4Routes(policy).map(({ route, name, settings }) => ({
      route: route.id,
      idSuffix: '',
      spec: {
        route,
        credential: name,
        settings,
        refuseStatus: route.auth!.refuseStatus,
        vendor: policy.vendor,
        shape: buildSigV4Matrix(route, settings, ''),
      },
    })),
  expected: ({ credential, settings, refuseStatus, vendor, shape }) => ({
    credential,
    region: settings.region,
    service: settings.service,
    wrongScope: wrongScope(settings),
    refuseStatus,
    vendor,
    variants: shape.variants.map((v) => v.label),
    ...(shape.skipped.length ? { skipped: shape.skipped } : {}),
  }),
  plan: ({ shape }) => ({ requests: 1 + shape.variants.length, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, spec) => {
    const wrongSecret = randomBytes(20).toString('base64');
    ctx.redactor.add(wrongSecret, `<credential ${spec.credential}, wrong secret>`);
    const matrix = buildSigV4Matrix(spec.route, spec.settings, wrongSecret);
    const observe = async (variant: SigV4Variant): Promise<AuthObservation> => {
      const outcome = await probeRoute(ctx, spec.route, variantRequest(spec.settings, variant));
      ctx.progress(`sigv4 ${spec.route.id}: ${variant.label} → ${describeAnswer(outcome?.final)}`);
      return { variant: toNote(variant), throttledOut: outcome?.throttledOut ?? false, ...(outcome ? { observation: outcome.final } : {}) };
    };
    if (controlReached(spec, await observe(matrix.control))) await mapBounded(matrix.variants, CONCURRENCY, observe);
    return { probes: [matrix.control, ...matrix.variants].map(toNote) };
  },
  evaluate: (spec, { observations, notes }, policy) => {
    const [controlNote, ...variantNotes] = notes.probes;
    if (!controlNote) return { status: 'error', summary: 'nothing was sent', observed: NOTHING_OBSERVED, evidence: [], findings: [] };
    const attempts = new Map(observations.map((o) => [o.probe, o]));
    // Throttled out by the route's own throttle statuses, as the auth check reads them.
    const throttled = throttleStatuses(spec.route);
    const control = answerOf(controlNote, attempts, throttled);
    const variants = controlReached(spec, control) ? variantNotes.map((note) => answerOf(note, attempts, throttled)) : [];
    const verdict = evaluateAuth(control, variants, {
      refuseStatus: spec.refuseStatus,
      isOk: (s) => isOkStatus(spec.route, s),
      vendor: spec.vendor,
    });
    const planned = (probe: string) => ({ probe, method: spec.route.method, path: spec.route.path });
    return matrixResult(policy, verdict, [control, ...variants], planned);
  },
};
