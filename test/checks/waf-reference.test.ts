/**
 * The corpus against the reference gateway's WAF rules (src/gateway/waf-rules.ts), request by
 * request as the server hands them over: the correct reference gateway must block every attack
 * the default plan sends and let every benign sample through, or its "correct" configuration
 * would fail gatecheck's own default policy.
 */
import { describe, expect, it } from 'vitest';
import { describeProbe, planWaf, type WafProbe } from '../../src/checks/waf/plan.js';
import { wafVerdict } from '../../src/gateway/waf-rules.js';
import { DEFAULT_WAF_ENCODINGS, WAF_CATEGORIES, WAF_PLACEMENTS } from '../../src/policy/types.js';

function verdictOf(probe: WafProbe) {
  const { path, headers, body } = probe.request;
  const q = path.indexOf('?');
  return wafVerdict({
    path: q < 0 ? path : path.slice(0, q),
    query: q < 0 ? '' : path.slice(q + 1),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
}

const plan = planWaf(
  { method: 'POST', path: '/api/items' },
  { categories: [...WAF_CATEGORIES], placements: [...WAF_PLACEMENTS], encodings: [...DEFAULT_WAF_ENCODINGS], exhaustive: true },
);

describe('the reference gateway WAF and the corpus', () => {
  it.each(WAF_CATEGORIES)('blocks every %s payload in every placement and default encoding', (category) => {
    const missed = plan.attacks.filter((p) => p.category === category && !verdictOf(p).blocked).map(describeProbe);
    expect(missed).toEqual([]);
  });

  it('lets every benign sample through in every placement', () => {
    const blocked = [plan.control, ...plan.benign]
      .filter((p) => verdictOf(p).blocked)
      .map((p) => `${describeProbe(p)}: ${verdictOf(p).rule}`);
    expect(blocked).toEqual([]);
  });

  it('does not decode base64 (opt-in encoding: nothing tells a WAF a field is base64)', () => {
    const b64 = planWaf(
      { method: 'POST', path: '/api/items' },
      { categories: ['xss'], placements: ['query', 'header', 'cookie', 'json', 'form'], encodings: ['base64'], exhaustive: true },
    );
    expect(b64.attacks.filter((p) => verdictOf(p).blocked)).toEqual([]);
  });
});
