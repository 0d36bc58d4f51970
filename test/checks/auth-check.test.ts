/**
 * The auth definition without a network: select knows the probes from the policy (for the plan
 * and "expected"), evaluate reads each probe's answer from the observations and the notes alone.
 */
import { describe, expect, it } from 'vitest';
import { authCheck, type AuthNotes } from '../../src/checks/auth/check.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { CheckResult } from '../../src/checks/types.js';
import { applyGate, type GateLevel } from '../../src/gate/gate.js';

const KEY = 'auth-check-key-0123456789';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl';

function policyWith(credential: string, vendor = 'plain'): Policy {
  return parsePolicy(
    [
      `version: 1`,
      `vendor: ${vendor}`,
      'credentials:',
      `  main: ${credential}`,
      'routes:',
      '  - { method: GET, path: /api/items, auth: { required: true, credential: main } }',
    ].join('\n'),
    'auth.yaml',
    { env: { K: KEY, T: TOKEN } },
  );
}

const policy = policyWith('{ header: x-api-key, value: "${K}" }');
const spec = authCheck.select(policy)[0]!.spec;
const notes: AuthNotes = {
  probes: [spec.shape.control, ...spec.shape.variants].map(({ probe, label, group }) => ({ probe, label, group })),
  skipped: [],
};

function answer(probe: string, status: number | undefined, headers: Record<string, string> = {}): Observation {
  return {
    probe,
    method: 'GET',
    path: '/api/items',
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 1,
    headers,
    ...(status === undefined ? { error: 'ECONNRESET' } : { status }),
  };
}

/** The control's answer, then `status` for every variant (the header-case controls accepted). */
function run(control: number, status: (probe: string) => number | undefined = () => 403): Observation[] {
  const variants = notes.probes.slice(1).map((p) => answer(p.probe, p.group === 'case-control' ? 200 : status(p.probe)));
  return [answer('auth.control', control), ...variants];
}

const evaluate = (observations: Observation[], n: AuthNotes = notes) => authCheck.evaluate(spec, { observations, notes: n }, policy);

describe('authCheck', () => {
  it('knows every probe from the policy: the plan counts them, expected lists them', () => {
    const expected = authCheck.expected(spec, policy);
    expect(expected.variants).toEqual(spec.shape.variants.map((v) => v.label));
    expect(authCheck.plan(spec, policy).requests).toBe(1 + spec.shape.variants.length);
  });

  it('lists the JWT forgeries before any key is made', () => {
    const jwt = policyWith('{ header: authorization, scheme: Bearer, kind: jwt, value: "${T}", expiredValue: "${T}" }');
    const { shape } = authCheck.select(jwt)[0]!.spec;
    const forged = shape.variants.filter((v) => v.probe.startsWith('auth.jwt.'));
    expect(forged.map((v) => v.probe)).toEqual([
      'auth.jwt.alg-none',
      'auth.jwt.alg-None',
      'auth.jwt.alg-NONE',
      'auth.jwt.alg-nOnE',
      'auth.jwt.signature-stripped',
      'auth.jwt.two-segments',
      'auth.jwt.other-key',
      'auth.jwt.expired-claims',
      'auth.jwt.expired',
    ]);
    expect(forged.find((v) => v.probe === 'auth.jwt.other-key')!.label).toBe('JWT re-signed with another key (RS256)');
  });

  it('passes when every variant is refused, with one evidence item per probe', () => {
    const verdict = evaluate(run(200));
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.evidence.map((e) => e.probe)).toEqual(notes.probes.map((p) => p.probe));
    expect(verdict.observed.answers['auth.wrong']).toBe('403');
  });

  it('fails a bypass, naming the variant by its label', () => {
    const verdict = evaluate(run(200, (probe) => (probe === 'auth.truncated' ? 200 : 403)));
    expect(verdict.status).toBe('fail');
    expect(verdict.observed.bypasses).toEqual(['valid credential with its last character cut → 200']);
    expect(verdict.evidence.find((e) => e.probe === 'auth.truncated')).toMatchObject({ outcome: 'violation', status: 200 });
  });

  it('a refused control is an error, and only the control is evidence (the variants were not sent)', () => {
    const verdict = evaluate([answer('auth.control', 403)]);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/positive control failed/);
    expect(verdict.evidence.map((e) => e.probe)).toEqual(['auth.control']);
  });

  it('reads the last attempt: a 429 retried into a refusal is a refusal; 429 to the end is unresolved', () => {
    // Observations arrive in order: the 429 first, then the answer.
    const retried = run(200).flatMap((o) => (o.probe === 'auth.wrong' ? [answer('auth.wrong', 429), o] : [o]));
    expect(evaluate(retried).status).toBe('pass');
    const throttled = evaluate(run(200, (probe) => (probe === 'auth.empty' ? 429 : 403)));
    expect(throttled.status).toBe('error');
    expect(throttled.observed.unresolved).toEqual(['empty credential header → 429 on every retry']);
  });

  it('a variant never sent (run cap) is unresolved, with its planned request as evidence', () => {
    const verdict = evaluate(run(200).filter((o) => o.probe !== 'auth.path.upper-case'));
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/path in upper case, no credential → not sent \(run cap reached\)/);
    expect(verdict.evidence.find((e) => e.probe === 'auth.path.upper-case')).toMatchObject({ path: '/API/ITEMS', outcome: 'unresolved' });
  });

  it('reads refusals with the vendor profile of the policy', () => {
    const aws = policyWith('{ header: x-api-key, value: "${K}" }', 'aws-rest');
    const awsSpec = authCheck.select(aws)[0]!.spec;
    const observations = run(200).map((o) =>
      o.probe === 'auth.wrong' ? answer('auth.wrong', 403, { 'x-amzn-errortype': 'ForbiddenException' }) : o,
    );
    observations[observations.findIndex((o) => o.probe === 'auth.wrong')]!.bodySnippet = '{"message":"Forbidden"}';
    const verdict = authCheck.evaluate(awsSpec, { observations, notes }, aws);
    expect(verdict.evidence.find((e) => e.probe === 'auth.wrong')!.note).toMatch(/INVALID_API_KEY/);
  });
});

describe('authCheck: findings', () => {
  const graded = (verdict: ReturnType<typeof evaluate>) => (verdict.findings ?? []).map((f) => [f.id, f.severity]);
  const gated = (verdict: ReturnType<typeof evaluate>, failOn: GateLevel) => {
    const id = 'auth:GET /api/items';
    const check: CheckResult = {
      id,
      kind: 'auth',
      route: 'GET /api/items',
      ...verdict,
      observed: {},
      expected: {},
      findings: qualifyFindings(id, verdict),
      durationMs: 0,
      requestsSent: 0,
    };
    return applyGate([check], { failOn, today: '2026-01-01' }).checks[0]!;
  };

  it.each([
    ['no credential', 'auth.missing', 'bypass:missing'],
    ['a wrong key', 'auth.wrong', 'bypass:wrong'],
    ['a truncated key', 'auth.truncated', 'bypass:truncated'],
    ['the key in the query string', 'auth.query.api_key', 'bypass:query.api-key'],
    ['a trailing slash', 'auth.path.trailing-slash', 'bypass:path.trailing-slash'],
    ['a method override', 'auth.override.x-http-method-override', 'bypass:override.x-http-method-override'],
  ])('a bypass with %s is critical, pointing at its exchange', (_name, probe, slug) => {
    const verdict = evaluate(run(200, (p) => (p === probe ? 200 : 403)));
    expect(graded(verdict)).toEqual([[slug, 'critical']]);
    const [bypass] = verdict.findings;
    expect(bypass!.evidence.map((i) => verdict.evidence[i]!.probe)).toEqual([probe]);
    expect(bypass!.title).toMatch(/ got through: 200, the backend's normal answer$/);
    expect(gated(verdict, 'critical').status).toBe('fail');
  });

  it('an expired JWT from the issuer that gets through is a critical bypass too', () => {
    const jwt = policyWith('{ header: authorization, scheme: Bearer, kind: jwt, value: "${T}", expiredValue: "${T}" }');
    const jwtSpec = authCheck.select(jwt)[0]!.spec;
    const jwtNotes: AuthNotes = {
      probes: [jwtSpec.shape.control, ...jwtSpec.shape.variants].map(({ probe, label, group }) => ({ probe, label, group })),
      skipped: [],
    };
    const observations = jwtNotes.probes.map((p) =>
      answer(p.probe, p.probe === 'auth.control' || p.group === 'case-control' || p.probe === 'auth.jwt.expired' ? 200 : 401),
    );
    const verdict = authCheck.evaluate(jwtSpec, { observations, notes: jwtNotes }, jwt);
    expect(graded(verdict)).toEqual([['bypass:jwt.expired', 'critical']]);
  });

  it('every bypass is its own finding, ids stable across two evaluations', () => {
    const leaky = (p: string) => (p === 'auth.missing' || p === 'auth.case-flipped' ? 200 : 403);
    const first = evaluate(run(200, leaky));
    const again = evaluate(run(200, leaky));
    expect(graded(first)).toEqual([
      ['bypass:missing', 'critical'],
      ['bypass:case-flipped', 'critical'],
    ]);
    expect(again.findings).toEqual(first.findings);
  });

  it('a refusal with the wrong status is medium: the check passes the default gate, fails at medium', () => {
    const verdict = evaluate(run(200, (p) => (p === 'auth.missing' ? 404 : 403)));
    expect(verdict.status).toBe('fail');
    expect(graded(verdict)).toEqual([['wrong-refusal:missing', 'medium']]);
    expect(verdict.findings[0]!.title).toBe('no credential refused with 404, not 401/403');
    expect(gated(verdict, 'high')).toMatchObject({
      status: 'pass',
      summary: 'pass · 1 medium: no credential refused with 404, not 401/403',
    });
    expect(gated(verdict, 'medium').status).toBe('fail');
  });

  it('a 2xx that is not the normal answer is high: it cannot be told from a bypass', () => {
    const okOnly = policyWith('{ header: x-api-key, value: "${K}" }');
    okOnly.routes[0]!.okStatus = [200];
    const okSpec = authCheck.select(okOnly)[0]!.spec;
    const verdict = authCheck.evaluate(okSpec, { observations: run(200, (p) => (p === 'auth.empty' ? 204 : 403)), notes }, okOnly);
    expect(graded(verdict)).toEqual([['success-status:empty', 'high']]);
    expect(gated(verdict, 'high').status).toBe('fail');
  });

  it('a wrong refusal beside an unresolved variant is an error with its finding, never a pass under a higher gate', () => {
    const verdict = evaluate(run(200, (p) => (p === 'auth.missing' ? 404 : p === 'auth.empty' ? 502 : 403)));
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/^not refused as required: no credential → 404 \(expected 401\/403\); could not observe: empty/);
    expect(gated(verdict, 'high').status).toBe('error');
    expect(gated(verdict, 'medium').status).toBe('fail');
  });

  it('a pass, a refused control and an unresolved variant have no finding', () => {
    expect(evaluate(run(200)).findings).toEqual([]);
    expect(evaluate([answer('auth.control', 403)]).findings ?? []).toEqual([]);
    expect(evaluate(run(200, (p) => (p === 'auth.empty' ? 502 : 403))).findings).toEqual([]);
  });
});
