import { describe, expect, it } from 'vitest';
import { evaluateQuota, isQuotaRefusal } from '../../src/checks/quota/check.js';
import type { Observation } from '../../src/engine/observation.js';

const answer = (status: number, headers: Record<string, string> = {}, bodySnippet?: string): Observation => ({
  probe: 'quota', method: 'GET', path: '/', intendedAtMs: 0, sentAtMs: 0, doneAtMs: 1, status, headers, ...(bodySnippet ? { bodySnippet } : {}),
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
