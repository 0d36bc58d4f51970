/**
 * The CORS check's graded findings: one per kind of hole, stable ids, and the status the release
 * gate gives them (a hostile origin reading is critical; CORS headers missing on a refusal is low).
 * Answers are built by hand from the planned exchanges: no network.
 */
import { describe, expect, it } from 'vitest';
import { corsCheck, type CorsObserved, type CorsSpec } from '../../src/checks/cors/check.js';
import type { CorsProbe } from '../../src/checks/cors/exchanges.js';
import { ARBITRARY_ORIGIN } from '../../src/checks/cors/origins.js';
import type { Verdict } from '../../src/checks/contract.js';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { Observation } from '../../src/engine/observation.js';
import { applyGate, type GateLevel } from '../../src/gate/gate.js';
import { parsePolicy } from '../../src/policy/load.js';
import { checkResult } from '../support/report-fixture.js';

const APP = 'https://app.example.com';
const policy = parsePolicy(
  [
    'version: 1',
    'credentials:',
    '  main: { header: x-api-key, value: "${K}" }',
    'routes:',
    '  - method: GET',
    '    path: /api/items',
    '    auth: { required: true, credential: main }',
    `    cors: { allowOrigins: [${APP}], allowMethods: [GET, POST], allowHeaders: [content-type, x-api-key], maxAge: 600 }`,
  ].join('\n'),
  'cors.yaml',
  { env: { K: 'cors-test-key-123456' } },
);
const spec: CorsSpec = corsCheck.select(policy)[0]!.spec;
const CHECK_ID = 'cors:GET /api/items';

type Headers = Record<string, string>;
/** How a gateway answers one exchange: its status and headers, given what a correct one would send. */
type Gateway = (probe: CorsProbe, correct: { status: number; headers: Headers }) => { status: number; headers: Headers };

const PREFLIGHT_HEADERS: Headers = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'content-type, x-api-key',
  'access-control-max-age': '600',
};

/** The correct gateway: the allowed origin echoed with Vary, hostile origins get no ACAO, the 403 keeps its CORS headers. */
function correct(probe: CorsProbe): { status: number; headers: Headers } {
  const allowed = probe.origin === APP;
  const headers: Headers = allowed ? { 'access-control-allow-origin': APP, vary: 'Origin' } : { vary: 'Origin' };
  if (probe.kind === 'preflight' && allowed) Object.assign(headers, PREFLIGHT_HEADERS);
  return { status: probe.kind === 'preflight' ? 204 : probe.kind === 'actual-error' ? 403 : 200, headers };
}

function observe(gateway: Gateway = (_p, c) => c, probes: CorsProbe[] = spec.probes): Observation[] {
  return probes.map((probe) => {
    const { status, headers } = gateway(probe, correct(probe));
    const { request } = probe;
    return {
      probe: request.probe,
      method: request.method,
      path: request.path,
      requestHeaders: request.headers ?? {},
      intendedAtMs: 0,
      sentAtMs: 0,
      doneAtMs: 1,
      status,
      headers,
    };
  });
}

const evaluate = (observations: Observation[]): Verdict<CorsObserved> => corsCheck.evaluate(spec, { observations, notes: {} }, policy);

/** The verdict as a run reports it: findings qualified, status settled by the gate. */
function gated(verdict: Verdict<CorsObserved>, failOn: GateLevel = 'high') {
  const { observed, ...rest } = verdict;
  const raw = checkResult('cors', verdict.status, { ...rest, observed: { ...observed }, findings: qualifyFindings(CHECK_ID, verdict) });
  return applyGate([raw], { failOn, today: '2026-11-30' }).checks[0]!;
}

const ids = (verdict: Verdict<CorsObserved>) => (verdict.findings ?? []).map((f) => `${f.severity} ${f.id}`);
/** Every origin echoed (with Vary: Origin), the preflight too. */
const reflectEvery: Gateway = (probe, c) => ({
  status: c.status,
  headers: { ...c.headers, ...(probe.kind === 'preflight' ? PREFLIGHT_HEADERS : {}), 'access-control-allow-origin': probe.origin },
});
/** The 403 answer without any CORS header, like nginx when the `if` block has add_header of its own. */
const bareError: Gateway = (probe, c) => (probe.kind === 'actual-error' ? { status: 403, headers: {} } : c);

describe('CORS findings', () => {
  it('a correct gateway has none and passes', () => {
    const verdict = evaluate(observe());
    expect(verdict.findings).toEqual([]);
    expect(gated(verdict).status).toBe('pass');
    expect(verdict.summary).toMatch(/; \d+ hostile origins blocked$/);
  });

  it('counts hostile origins blocked, not exchanges (the first is tried twice)', () => {
    const origins = new Set(spec.probes.filter((p) => !p.mustAllow).map((p) => p.origin));
    expect(spec.probes.filter((p) => !p.mustAllow).length).toBe(origins.size + 1);
    expect(evaluate(observe()).summary).toContain(`; ${origins.size} hostile origins blocked`);
  });

  it('a 403 without CORS headers is one low finding: passes the default gate, fails --fail-on low', () => {
    const verdict = evaluate(observe(bareError));
    expect(ids(verdict)).toEqual([`low no-cors-on-error:403`]);
    const errorIndex = spec.probes.findIndex((p) => p.kind === 'actual-error');
    expect(verdict.findings[0]!.evidence).toEqual([errorIndex]);
    expect(verdict.evidence[errorIndex]!.outcome).toBe('violation');
    const passed = gated(verdict);
    expect(passed.status).toBe('pass');
    expect(passed.summary).toBe('pass · 1 low: 403 answers carry no usable CORS headers: the browser app cannot see why it was refused');
    expect(passed.findings[0]).toMatchObject({ id: `${CHECK_ID}#no-cors-on-error:403`, disposition: 'below-gate' });
    expect(gated(verdict, 'low').status).toBe('fail');
  });

  it('a reflected origin is one critical finding naming the mechanism, every hostile exchange its evidence', () => {
    const verdict = evaluate(observe(reflectEvery));
    expect(ids(verdict)).toEqual(['critical origin-readable:any']);
    const hostile = spec.probes.flatMap((p, i) => (p.mustAllow ? [] : [i]));
    expect(verdict.findings[0]!.evidence).toEqual(hostile);
    expect(gated(verdict).status).toBe('fail');
    // Each origin once, though the first hostile origin is tried with a preflight and a request.
    const origins = [...new Set(spec.probes.filter((p) => !p.mustAllow).map((p) => p.origin))];
    expect(verdict.observed.bypassOrigins).toEqual(origins);
    expect(verdict.summary).toBe(`1 CORS finding(s): ${verdict.findings[0]!.title}`);
  });

  it('a reflected origin with Allow-Credentials says a page reads as the user', () => {
    const withCredentials: Gateway = (p, c) => {
      const r = reflectEvery(p, c);
      return { ...r, headers: { ...r.headers, 'access-control-allow-credentials': 'true' } };
    };
    const verdict = evaluate(observe(withCredentials));
    // Allowed origins send it too, against the policy's allowCredentials: false.
    expect(ids(verdict)).toEqual(['critical origin-readable:any', 'medium credentials-allowed']);
    expect(verdict.findings[0]!.detail).toContain("with the user's credentials");
  });

  it('"*" on every answer is one critical finding, allowed and hostile exchanges together, said once in the summary', () => {
    const star: Gateway = (p, c) => ({ status: c.status, headers: { ...PREFLIGHT_HEADERS, 'access-control-allow-origin': '*' } });
    const verdict = evaluate(observe(star));
    expect(ids(verdict)).toEqual(['critical origin-readable:wildcard']);
    expect(verdict.findings[0]!.evidence).toEqual(spec.probes.map((_p, i) => i));
    expect(verdict.summary.match(/although the policy lists origins/g)).toHaveLength(1);
  });

  it('a suffix-match bypass is a critical finding per origin that gets through', () => {
    const suffix: Gateway = (p, c) =>
      p.origin.endsWith('example.com') && p.origin !== APP
        ? { status: c.status, headers: { ...c.headers, 'access-control-allow-origin': p.origin } }
        : c;
    const verdict = evaluate(observe(suffix));
    expect(ids(verdict)).toEqual(
      expect.arrayContaining([
        'critical origin-readable:gatecheck-evilapp.example.com',
        'critical origin-readable:gatecheck-evil.app.example.com',
      ]),
    );
    expect(ids(verdict).every((id) => id.startsWith('critical origin-readable:'))).toBe(true);
    expect(ids(verdict)).not.toContain('critical origin-readable:any');
    // http:// for the allowed https:// origin: its id keeps the scheme, so it never reads as the allowed origin.
    expect(ids(verdict)).toContain('critical origin-readable:http-app.example.com');
    expect(verdict.findings[0]!.title).toMatch(/^hostile origin https:\/\/\S+ can read responses \(/);
  });

  it('the "null" origin allowed has its own id', () => {
    const nullOrigin: Gateway = (p, c) =>
      p.origin === 'null' ? { status: c.status, headers: { 'access-control-allow-origin': 'null' } } : c;
    expect(ids(evaluate(observe(nullOrigin)))).toEqual(['critical origin-readable:null']);
  });

  it('no CORS at all breaks the allowed origin (high) and hides the 403 (low)', () => {
    const off: Gateway = (p, c) => (p.kind === 'preflight' ? { status: 403, headers: {} } : { status: c.status, headers: {} });
    const verdict = evaluate(observe(off));
    expect(ids(verdict)).toEqual(['high allowed-origin-refused:app.example.com', 'low no-cors-on-error:403']);
    // The preflight and the request from the allowed origin, in one finding.
    expect(verdict.findings[0]!.evidence).toEqual([0, 1]);
    expect(gated(verdict).status).toBe('fail');
  });

  it.each<[string, Gateway, string]>([
    [
      'a Max-Age the policy does not say',
      (p, c) => ({
        ...c,
        headers: { ...c.headers, ...(p.kind === 'preflight' && p.origin === APP ? { 'access-control-max-age': '60' } : {}) },
      }),
      'low max-age',
    ],
    [
      "a method the policy allows missing from the preflight (not the route's own)",
      (p, c) => ({
        ...c,
        headers: { ...c.headers, ...(p.kind === 'preflight' && p.origin === APP ? { 'access-control-allow-methods': 'GET' } : {}) },
      }),
      'medium allow-methods-missing',
    ],
    [
      'an echoed origin without Vary: Origin',
      (p, c) => ({ ...c, headers: Object.fromEntries(Object.entries(c.headers).filter(([k]) => k !== 'vary')) }),
      'medium vary-origin-missing',
    ],
    [
      'Allow-Credentials: true although the policy says false',
      (p, c) => ({ ...c, headers: { ...c.headers, ...(p.origin === APP ? { 'access-control-allow-credentials': 'true' } : {}) } }),
      'medium credentials-allowed',
    ],
  ])('%s → %s', (_name, gateway, expected) => {
    const verdict = evaluate(observe(gateway));
    expect(ids(verdict)).toEqual([expected]);
    expect(gated(verdict).status).toBe('pass');
  });

  it('the same answers give the same ids (no measured number in them)', () => {
    const a = evaluate(observe(reflectEvery));
    const b = evaluate(JSON.parse(JSON.stringify(observe(reflectEvery))) as Observation[]);
    expect(ids(a)).toEqual(ids(b));
    expect(a.findings).toEqual(b.findings);
  });

  it('an unanswered exchange keeps the check open: error with a low finding, fail with a critical one', () => {
    const unanswered = spec.probes.slice(0, -1);
    const low = evaluate(observe(bareError, unanswered));
    expect(low.status).toBe('error');
    expect(gated(low).status).toBe('error');
    const critical = evaluate(observe(reflectEvery, unanswered));
    expect(gated(critical).status).toBe('fail');
    expect(ids(critical)).toEqual(['critical origin-readable:any']);
  });

  it('the arbitrary origin is the first hostile one planned', () => {
    expect(spec.probes.find((p) => !p.mustAllow)!.origin).toBe(ARBITRARY_ORIGIN);
  });
});
