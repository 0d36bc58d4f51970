/**
 * The cors definition without a network: select plans the exchanges from the policy, evaluate
 * finds each answer by probe and Origin and judges it (pure, so a recording gives the same verdict).
 */
import { describe, expect, it } from 'vitest';
import { corsCheck, type CorsSpec } from '../../src/checks/cors/check.js';
import type { CorsProbe } from '../../src/checks/cors/exchanges.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';

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
const [instance] = corsCheck.select(policy);
const spec: CorsSpec = instance!.spec;

/** What a correct gateway answers: the allowed origin echoed (with Vary), hostile ones get no ACAO. */
function correctAnswer(probe: CorsProbe, status = 200): Observation {
  const allowed = probe.origin === APP;
  const acao: Record<string, string> = allowed ? { 'access-control-allow-origin': APP, vary: 'Origin' } : { vary: 'Origin' };
  const preflight: Record<string, string> =
    probe.kind === 'preflight' && allowed
      ? {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, x-api-key',
          'access-control-max-age': '600',
        }
      : {};
  const answer = probe.kind === 'preflight' ? 204 : probe.kind === 'actual-error' ? 403 : status;
  return observation(probe, answer, { ...acao, ...preflight });
}

function observation(probe: CorsProbe, status: number, headers: Record<string, string>): Observation {
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
}

const evaluate = (observations: Observation[]) => corsCheck.evaluate(spec, { observations, notes: {} }, policy);

describe('corsCheck', () => {
  it('plans a preflight and a request per allowed origin, an error response, then the hostile origins', () => {
    expect(spec.probes.slice(0, 3).map((p) => p.request.probe)).toEqual(['cors.preflight', 'cors.actual', 'cors.actual-error']);
    expect(corsCheck.plan(spec, policy)).toEqual({ requests: spec.probes.length, durationMs: 0, needsIdleBucket: false });
    // Probe names repeat across hostile origins: the Origin header tells them apart.
    expect(spec.probes.filter((p) => p.request.probe === 'cors.hostile').length).toBeGreaterThan(3);
  });

  it('passes a correct gateway, every exchange judged from its own answer', () => {
    const verdict = evaluate(spec.probes.map((p) => correctAnswer(p)));
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.evidence).toHaveLength(spec.probes.length);
    expect(verdict.evidence.every((e) => e.outcome === 'ok')).toBe(true);
    expect(verdict.observed).toMatchObject({ exchanges: spec.probes.length, bypassOrigins: [], violations: [], unresolved: [] });
  });

  it('fails the one hostile origin that is reflected, by its Origin, not its probe name', () => {
    const reflected = spec.probes.find((p) => p.bypass?.startsWith('suffix match'))!;
    const observations = spec.probes.map((p) =>
      p === reflected ? observation(p, 200, { 'access-control-allow-origin': p.origin }) : correctAnswer(p),
    );
    const verdict = evaluate(observations);
    expect(verdict.status).toBe('fail');
    expect(verdict.observed.bypassOrigins).toEqual([reflected.origin]);
    expect(verdict.summary).toMatch(/suffix match on https:\/\/app\.example\.com/);
  });

  it('reads the last attempt: a 429 retried into an answer is judged by the answer', () => {
    const observations = spec.probes.flatMap((p) =>
      p.request.probe === 'cors.actual' ? [observation(p, 429, {}), correctAnswer(p)] : [correctAnswer(p)],
    );
    expect(evaluate(observations).status).toBe('pass');
  });

  it('a 429 on every retry is not judged, and the evidence shows the 429', () => {
    const throttled = spec.probes[1]!;
    const verdict = evaluate(spec.probes.map((p) => (p === throttled ? observation(p, 429, {}) : correctAnswer(p))));
    expect(verdict.status).toBe('error');
    expect(verdict.evidence[1]).toMatchObject({ status: 429, outcome: 'unresolved', note: 'throttled (429) on every retry: not judged' });
  });

  it('an exchange never sent (run cap) is unresolved: error, with the planned request as evidence', () => {
    const verdict = evaluate(spec.probes.slice(0, -1).map((p) => correctAnswer(p)));
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/1 of \d+ CORS exchanges got no usable answer: no usable answer \(not sent/);
    expect(verdict.evidence.at(-1)).toMatchObject({
      probe: 'cors.hostile',
      outcome: 'unresolved',
      requestHeaders: { origin: spec.probes.at(-1)!.origin },
    });
  });

  it('gives the same verdict from a recording (JSON) as from the run', () => {
    const observations = spec.probes.map((p) => correctAnswer(p));
    expect(evaluate(JSON.parse(JSON.stringify(observations)) as Observation[])).toEqual(evaluate(observations));
  });
});
