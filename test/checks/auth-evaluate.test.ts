/**
 * The auth verdict and the vendor profiles that word refusals: pure tables.
 */
import { describe, expect, it } from 'vitest';
import { evaluateAuth, type AuthObservation, type AuthRules } from '../../src/checks/auth/evaluate.js';
import type { AuthVariant, VariantGroup } from '../../src/checks/auth/variants.js';
import { isNotRouted, readRedirect, readRefusal } from '../../src/checks/auth/vendor.js';
import type { Observation } from '../../src/engine/observation.js';
import type { Vendor } from '../../src/policy/types.js';

function obs(status: number | undefined, body?: string, headers: Record<string, string> = {}): Observation {
  return {
    probe: 'auth.x',
    method: 'GET',
    path: '/x',
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 1,
    headers,
    ...(status !== undefined ? { status } : { error: 'ECONNRESET' }),
    ...(body ? { bodySnippet: body } : {}),
  };
}

function answer(
  group: VariantGroup,
  status: number | undefined,
  label = `${group} variant`,
  extra: Partial<AuthObservation> = {},
): AuthObservation {
  const variant: AuthVariant = { probe: `auth.${label}`, label, group, method: 'GET', path: '/x', headers: {} };
  return { variant, observation: obs(status), throttledOut: false, ...extra };
}

const rules: AuthRules = { refuseStatus: [401, 403], isOk: (s) => s >= 200 && s < 300, vendor: 'plain' };
const control = answer('credential', 200, 'control');

describe('evaluateAuth', () => {
  it.each([
    [
      'every credential variant refused, path variants not routed',
      [
        answer('credential', 403),
        answer('credential', 401),
        answer('routing', 404),
        answer('routing', 403),
        answer('routing', 405),
        answer('routing', 301),
      ],
      'pass',
      /all 6 bypass variants refused or not routed; valid credential accepted \(200\)/,
    ],
    [
      'a wrong key gets the backend',
      [answer('credential', 200, 'wrong credential')],
      'fail',
      /got through without a valid credential: wrong credential → 200/,
    ],
    ['a trailing slash gets the backend', [answer('routing', 204, 'trailing slash')], 'fail', /trailing slash → 204/],
    [
      'a credential variant refused with the wrong status',
      [answer('credential', 404, 'no credential')],
      'fail',
      /not refused as required: no credential → 404 \(expected 401\/403\)/,
    ],
    ['a bypass wins over a wrong refusal', [answer('credential', 404, 'a'), answer('credential', 200, 'b')], 'fail', /b → 200/],
    [
      'a 5xx is unresolved, never a refusal',
      [answer('credential', 503, 'empty credential')],
      'error',
      /could not observe: empty credential → 503/,
    ],
    ['a reset is unresolved', [answer('routing', undefined, 'double slash')], 'error', /double slash → ECONNRESET/],
    [
      '429 on every retry is unresolved',
      [answer('credential', 429, 'wrong', { throttledOut: true })],
      'error',
      /wrong → 429 on every retry/,
    ],
    [
      'a differently cased header name accepted: expected, not a bypass',
      [answer('credential', 403), answer('case-control', 200)],
      'pass',
      /all 1 bypass variants/,
    ],
    [
      'a differently cased header name refused: noted, not a failure',
      [answer('credential', 403), answer('case-control', 403, 'X-API-KEY')],
      'pass',
      /differently cased header name \(1\)/,
    ],
  ] as const)('%s → %s', (_name, variants, status, summary) => {
    const verdict = evaluateAuth(control, [...variants], rules);
    expect(verdict.status).toBe(status);
    expect(verdict.summary).toMatch(summary);
  });

  it('marks each exchange for the evidence', () => {
    const bypass = answer('credential', 200);
    const refused = answer('credential', 403);
    const cased = answer('case-control', 200);
    const verdict = evaluateAuth(control, [bypass, refused, cased], rules);
    expect([control, bypass, refused, cased].map((o) => verdict.outcomes.get(o))).toEqual(['ok', 'violation', 'ok', 'ok']);
    expect(verdict.notes.get(bypass)).toMatch(/BYPASS/);
    expect(verdict.bypasses).toEqual(['credential variant → 200']);
  });

  it.each([
    ['refused', obs(403), /got 403/],
    ['a 5xx', obs(502), /got 502/],
    ["not the backend's answer (a 404)", obs(404), /got 404/],
    ['unanswered', obs(undefined), /ECONNRESET/],
  ])('is an error when the control is %s', (_name, observation, summary) => {
    const verdict = evaluateAuth({ ...control, observation }, [answer('credential', 200)], rules);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/positive control failed/);
    expect(verdict.summary).toMatch(summary);
    expect(verdict.bypasses).toEqual([]);
  });

  it('explains an AWS control that hit Missing Authentication Token', () => {
    const verdict = evaluateAuth({ ...control, observation: obs(403, '{"message":"Missing Authentication Token"}') }, [], {
      ...rules,
      vendor: 'aws-rest',
    });
    expect(verdict.summary).toMatch(/Missing Authentication Token: AWS answers so for an unknown resource or method/);
  });

  it('counts a 2xx to an override method as a bypass even when okStatus says otherwise', () => {
    const verdict = evaluateAuth({ ...control, observation: obs(405) }, [answer('routing', 200, 'POST with x-http-method-override: GET')], {
      ...rules,
      isOk: (s) => s === 405,
    });
    expect(verdict.status).toBe('fail');
  });
});

describe('readRefusal (vendor profiles)', () => {
  it.each<[Vendor, Observation, RegExp | undefined, boolean]>([
    ['aws-rest', obs(403, '{"message":"Forbidden"}', { 'x-amzn-errortype': 'ForbiddenException' }), /INVALID_API_KEY/, false],
    ['aws-rest', obs(403, '{"message":"Missing Authentication Token"}'), /proves no auth/, true],
    ['aws-rest', obs(403, undefined, { 'x-amzn-errortype': 'MissingAuthenticationTokenException' }), /Missing Authentication Token/, true],
    ['aws-rest', obs(401, '{"message":"Unauthorized"}'), /authorizer/, false],
    [
      'aws-rest',
      obs(403, '{"Message":"User is not authorized to access this resource with an explicit deny"}'),
      /denied by an authorizer policy/,
      false,
    ],
    ['aws-rest', obs(403, '{"message":"The security token included in the request is invalid."}'), /IAM signature/, false],
    ['aws-rest', obs(200), undefined, false],
    [
      'aws-http',
      obs(401, '{"message":"Unauthorized"}', {
        'www-authenticate': 'Bearer scope="" error="invalid_token" error_description="the token has expired"',
      }),
      /JWT authorizer \(invalid_token\)/,
      false,
    ],
    ['aws-http', obs(401, '{"message":"Unauthorized"}'), /Lambda authorizer, not the JWT authorizer/, false],
    ['aws-http', obs(404, '{"message":"Not Found"}'), /no such route/, true],
    ['plain', obs(403, '{"message":"Missing Authentication Token"}'), undefined, false],
  ])('%s %j', (vendor, observation, note, notRouted) => {
    const reading = readRefusal(vendor, observation);
    if (note === undefined) expect(reading).toBeUndefined();
    else expect(reading?.note).toMatch(note);
    expect(isNotRouted(vendor, observation)).toBe(notRouted);
  });
});

describe('redirects (never followed)', () => {
  const toLogin = (group: VariantGroup, label: string): AuthObservation => ({
    ...answer(group, 302, label),
    observation: obs(302, undefined, { location: '/login' }),
  });
  const variants = () => [toLogin('credential', 'wrong credential'), toLogin('routing', 'double slash')];

  it('plain: a 302 to a login page is a refusal', () => {
    const verdict = evaluateAuth(control, variants(), rules);
    expect(verdict.status).toBe('pass');
    expect([...verdict.notes.values()]).toContain('302 redirect to /login, not followed: a refusal under vendor plain (sent to log in)');
  });

  it.each<Vendor>(['aws-rest', 'aws-http'])('%s: a 3xx is no refusal, so unresolved (error, never pass)', (vendor) => {
    const verdict = evaluateAuth(control, variants(), { ...rules, vendor });
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/^could not observe: wrong credential → 302 redirect to \/login, not followed; double slash → 302 /);
    expect(verdict.summary).toMatch(/ \(redirects: aws-\w+ refuses with 401\/403; a 3xx is the backend's or a custom gateway response\)$/);
    expect(verdict.unresolved).toHaveLength(2);
  });

  it('a bypass still fails next to a redirect', () => {
    const verdict = evaluateAuth(control, [...variants(), answer('credential', 200, 'empty credential')], { ...rules, vendor: 'aws-rest' });
    expect(verdict.status).toBe('fail');
  });

  it.each<Vendor>(['plain', 'aws-rest'])('%s: a redirected positive control did not reach the backend', (vendor) => {
    const verdict = evaluateAuth(toLogin('credential', 'control'), variants(), { ...rules, vendor });
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/positive control failed: the valid credential got 302 \(302 redirect to \/login, not followed/);
  });

  it('a redirected case-control variant is not counted', () => {
    const cased = toLogin('case-control', 'X-API-KEY');
    const verdict = evaluateAuth(control, [answer('credential', 403), cased], rules);
    expect(verdict.status).toBe('pass');
    expect(verdict.outcomes.get(cased)).toBe('info');
    expect(verdict.notes.get(cased)).toMatch(/^no usable answer \(302 redirect to \/login/);
  });

  it('readRedirect reads only 3xx', () => {
    expect(readRedirect('plain', obs(200))).toBeUndefined();
    expect(readRedirect('plain', obs(undefined))).toBeUndefined();
    expect(readRedirect('aws-rest', obs(307))?.note).toMatch(/^307 redirect without a Location, not followed/);
  });
});
