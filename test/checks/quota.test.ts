import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluateQuota, isQuotaRefusal, quotaCheck } from '../../src/checks/quota/check.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';

const answer = (status: number, headers: Record<string, string> = {}, bodySnippet?: string): Observation => ({
  probe: 'quota',
  method: 'GET',
  path: '/',
  intendedAtMs: 0,
  sentAtMs: 0,
  doneAtMs: 1,
  status,
  headers,
  ...(bodySnippet ? { bodySnippet } : {}),
});

describe('quota evaluation', () => {
  it.each([
    ['refused exactly at the limit', { accepted: 15, refusedAfter: 15, unresolved: 0 }, 0, 'pass'],
    ['refused within the tolerance', { accepted: 16, refusedAfter: 16, unresolved: 0 }, 1, 'pass'],
    ['never refused', { accepted: 20, unresolved: 0 }, 0, 'fail'],
    ['refused too late', { accepted: 18, refusedAfter: 18, unresolved: 0 }, 1, 'fail'],
    ['refused early (key used before, or a lower quota)', { accepted: 9, refusedAfter: 9, unresolved: 0 }, 0, 'inconclusive'],
    ['nothing judgeable', { accepted: 3, unresolved: 4 }, 0, 'error'],
  ])('%s', (_name, tally, tolerance, status) => {
    expect(evaluateQuota(tally, 15, tolerance).status).toBe(status);
  });

  it('tells a quota refusal from throttling', () => {
    expect(isQuotaRefusal(answer(429, { 'x-amzn-errortype': 'LimitExceededException' }))).toBe(true);
    expect(isQuotaRefusal(answer(429, {}, '{"message":"Limit Exceeded"}'))).toBe(true);
    expect(isQuotaRefusal(answer(429, { 'x-amzn-errortype': 'TooManyRequestsException' }, '{"message":"Too Many Requests"}'))).toBe(false);
    expect(isQuotaRefusal(answer(200, {}, 'Limit Exceeded'))).toBe(false);
  });
});

describe('quotaCheck.evaluate: the tally from the observations in order', () => {
  const route = { method: 'GET', path: '/r', quota: { limit: 3, period: 'DAY', credential: 'main' } };
  const text = stringify({ version: 1, credentials: { main: { value: 'k-1234567890' } }, routes: [route] });
  const policy = { ...parsePolicy(text, 'p.yaml', { env: {} }), target: 'http://gw.test' };
  const spec = quotaCheck.select(policy)[0]!.spec;
  const LIMIT = { 'x-amzn-errortype': 'LimitExceededException' };
  const THROTTLED = { 'x-amzn-errortype': 'TooManyRequestsException' };
  const sent = (probe: string, status: number | undefined, headers: Record<string, string> = {}): Observation => ({
    ...answer(status ?? 0, headers),
    probe,
    ...(status === undefined ? { status: undefined, error: 'ECONNRESET' } : {}),
  });
  const judge = (observations: Observation[]) => quotaCheck.evaluate(spec, { observations, notes: {} }, policy);

  it('passes a refusal right at the limit, with the first accepted request and the refusal as evidence', () => {
    const verdict = judge([sent('quota', 200), sent('quota', 200), sent('quota', 200), sent('quota', 429, LIMIT)]);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.observed).toEqual({ accepted: 3, refusedAfter: 3, unresolved: 0, throttleRetries: 0 });
    expect(verdict.evidence.map((e) => [e.label, e.outcome])).toEqual([
      ['first accepted request', 'info'],
      ['first quota refusal, after 3 accepted', 'ok'],
    ]);
  });

  it('reads a throttle 429 retried into an accepted answer as one accepted request', () => {
    const throttled = [sent('quota', 429, THROTTLED), sent('quota.retry', 200)];
    const verdict = judge([sent('quota', 200), ...throttled, sent('quota', 200), sent('quota', 429, LIMIT)]);
    expect(verdict.observed).toEqual({ accepted: 3, refusedAfter: 3, unresolved: 0, throttleRetries: 1 });
    expect(verdict.status).toBe('pass');
  });

  it("reads a 429 that outlasts the retries as the quota's refusal", () => {
    const retries = [sent('quota.retry', 429, THROTTLED), sent('quota.retry', 429, THROTTLED)];
    const verdict = judge([sent('quota', 200), sent('quota', 429, THROTTLED), ...retries]);
    expect(verdict.observed).toEqual({ accepted: 1, refusedAfter: 1, unresolved: 0, throttleRetries: 2 });
    expect(verdict.status).toBe('inconclusive');
  });

  it('fails a quota never enforced, the last accepted request as the violation', () => {
    const verdict = judge(Array.from({ length: 8 }, () => sent('quota', 200)));
    expect(verdict.status).toBe('fail');
    const last = { label: '8 accepted, none refused', outcome: 'violation', note: 'the limit is 3', status: 200 };
    expect(verdict.evidence.at(-1)).toMatchObject(last);
  });

  it('gives error after four answers that are neither accepted nor refused', () => {
    const verdict = judge([sent('quota', 200), sent('quota', 500), sent('quota', undefined), sent('quota', 502), sent('quota', 503)]);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toBe('4 answers were neither accepted nor refused (last: 503)');
    expect(verdict.evidence.map((e) => e.outcome)).toEqual(['info', 'unresolved']);
  });

  it('a quota never enforced is a high finding pointing at the last accepted request, the same id run after run', () => {
    const verdict = judge(Array.from({ length: 8 }, () => sent('quota', 200)));
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([['not-enforced', 'high']]);
    expect(verdict.findings[0]!.title).toBe('quota not enforced: the key got past its limit of 3 per day');
    expect(verdict.findings[0]!.evidence.map((i) => verdict.evidence[i]!.label)).toEqual(['8 accepted, none refused']);
    const again = judge(Array.from({ length: 6 }, () => sent('quota', 200)));
    expect(again.findings.map((f) => f.id)).toEqual(['not-enforced']);
  });

  it('a refusal past the limit is a high finding pointing at the refusal, now a violation', () => {
    const accepted = Array.from({ length: 6 }, () => sent('quota', 200));
    const verdict = judge([...accepted, sent('quota', 429, LIMIT)]);
    expect(verdict.status).toBe('fail');
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([['quota-too-high', 'high']]);
    const [refusal] = verdict.findings[0]!.evidence.map((i) => verdict.evidence[i]!);
    expect(refusal).toMatchObject({ label: 'first quota refusal, after 6 accepted', outcome: 'violation' });
  });

  it('a refusal before the limit stays inconclusive, listed as info (it cannot be told from a key used earlier)', () => {
    const verdict = judge([sent('quota', 200), sent('quota', 429, LIMIT)]);
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([['refused-before-limit', 'info']]);
  });

  it('a pass and an error have no finding', () => {
    expect(judge([sent('quota', 200), sent('quota', 200), sent('quota', 200), sent('quota', 429, LIMIT)]).findings).toEqual([]);
    expect(judge([sent('quota', 500), sent('quota', 500), sent('quota', 500), sent('quota', 500)]).findings).toEqual([]);
  });

  it('plans the limit, the tolerance and five more, at its pace', () => {
    expect(quotaCheck.phase).toBe('last');
    expect(quotaCheck.plan(spec, policy)).toEqual({ requests: 8, durationMs: 400, needsIdleBucket: false });
  });
});
