/**
 * The kinds' own Markdown (src/report/render/) and the redaction of a report model before it is
 * formatted.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { renderAuth } from '../../src/report/render/auth.js';
import { renderCors } from '../../src/report/render/cors.js';
import { Redactor } from '../../src/util/redact.js';

const result = (kind: 'auth' | 'cors', observed: Record<string, unknown>): CheckResult => ({
  id: `${kind}:GET /x`,
  kind,
  route: 'GET /x',
  status: 'fail',
  summary: '',
  expected: {},
  observed,
  evidence: [],
  findings: [],
  durationMs: 0,
  requestsSent: 0,
});

describe('renderAuth', () => {
  it('groups the probes by the answer they got, under the verdict lists', () => {
    const observed = {
      control: '200',
      bypasses: ['no credential → 200'],
      wrongRefusals: [],
      unresolved: [],
      answers: { 'auth.control': '200', 'auth.missing': '200', 'auth.wrong': '403' },
    };
    const text = renderAuth(result('auth', observed)).join('\n');
    expect(text).toContain('| bypasses | no credential → 200 |');
    expect(text).toContain('| Answer | Probes |');
    expect(text).toContain('| 200 | auth.control, auth.missing |');
    expect(text).toContain('| 403 | auth.wrong |');
  });

  it('is the generic table when there are no answers', () => {
    expect(renderAuth(result('auth', { 'auth.control': '200' }))).toEqual(['| Field | Value |\n| - | - |\n| auth.control | 200 |']);
  });
});

describe('renderCors', () => {
  it('counts in the table, every violation on a line of its own, escaped', () => {
    const observed = {
      exchanges: 3,
      bypassOrigins: ['null'],
      violations: ['from null: "null" origin allowed', 'no `Vary: Origin` <here>'],
      unresolved: [],
      originsTried: ['null'],
    };
    const lines = renderCors(result('cors', observed));
    expect(lines[0]).toContain('| violations | 2 |');
    expect(lines).toEqual(
      expect.arrayContaining(['**Violations**', '- from null: "null" origin allowed', '- no `Vary: Origin` &lt;here&gt;']),
    );
    expect(lines).not.toContain('**Unresolved**');
  });
});

describe('Redactor.redactDeep', () => {
  it('redacts every string of a model, so a placeholder with quotes stays valid JSON', () => {
    const redactor = new Redactor([{ name: 'main', header: 'x-api-key', value: 'secret-value-1234' }]);
    redactor.add('forged-token-5678', '<credential main, JWT with alg "none">');
    const model = {
      evidence: [{ requestHeaders: { authorization: 'Bearer forged-token-5678' }, path: '/x?api_key=secret-value-1234', status: 200 }],
    };
    const safe = redactor.redactDeep(model);
    expect(safe).toEqual({
      evidence: [
        {
          requestHeaders: { authorization: 'Bearer <credential main, JWT with alg "none">' },
          path: '/x?api_key=<credential main>',
          status: 200,
        },
      ],
    });
    expect(JSON.parse(JSON.stringify(safe))).toEqual(safe);
    expect(model.evidence[0]!.path).toContain('secret-value-1234');
  });
});
