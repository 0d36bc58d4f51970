/**
 * The auth definition without a network: select knows the probes from the policy (for the plan
 * and "expected"), evaluate reads each probe's answer from the observations and the notes alone.
 */
import { describe, expect, it } from 'vitest';
import { authCheck, type AuthNotes } from '../../src/checks/auth/check.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';

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
