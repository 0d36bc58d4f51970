/**
 * The waf block of the policy: defaults as the schema documents them, body placements only for
 * methods that carry a body, every problem reported with its path.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePolicy } from '../../src/policy/load.js';
import { WAF_CATEGORIES } from '../../src/policy/types.js';
import { policyIssues } from '../support/policy-issues.js';

function policyWith(route: Record<string, unknown>): string {
  return stringify({
    version: 1,
    credentials: { main: { value: 'k-1234567890' } },
    routes: [{ path: '/api/items', auth: { required: true, credential: 'main' }, ...route }],
  });
}

const issuesOf = (text: string): string[] => policyIssues(text);

describe('the waf policy', () => {
  it('defaults to every category, every placement the method allows, no base64, and no thresholds (the baseline gates)', () => {
    const get = parsePolicy(policyWith({ method: 'GET', waf: { blockStatus: [403] } }), 'p.yaml', { env: {} }).routes[0]!.waf;
    // Unwritten thresholds stay unset: only a threshold the user wrote makes an explicit finding.
    expect(get).toEqual({
      blockStatus: [403],
      categories: [...WAF_CATEGORIES],
      placements: ['query', 'path', 'header', 'cookie'],
      encodings: ['plain', 'url', 'double-url', 'unicode'],
      exhaustive: false,
    });
    const post = parsePolicy(policyWith({ method: 'POST', waf: { blockStatus: [403] } }), 'p.yaml', { env: {} }).routes[0]!.waf;
    expect(post?.placements).toEqual(['query', 'path', 'header', 'cookie', 'json', 'form']);
  });

  it('takes thresholds, categories, placements and encodings as written', () => {
    const waf = parsePolicy(
      policyWith({
        method: 'PUT',
        waf: {
          blockStatus: [403, 406],
          minBlockRate: 0.8,
          maxFalsePositiveRate: 0.05,
          categories: ['sqli', 'xss'],
          placements: ['json'],
          encodings: ['base64', 'unicode'],
          exhaustive: true,
        },
      }),
      'p.yaml',
      { env: {} },
    ).routes[0]!.waf;
    expect(waf).toMatchObject({
      minBlockRate: 0.8,
      maxFalsePositiveRate: 0.05,
      categories: ['sqli', 'xss'],
      placements: ['json'],
      encodings: ['base64', 'unicode'],
      exhaustive: true,
    });
  });

  it.each([
    [
      { method: 'GET', waf: { blockStatus: [403], placements: ['query', 'json'] } },
      'routes[0].waf.placements: "json" is a request body: a GET route does not take one',
    ],
    [
      { method: 'DELETE', waf: { blockStatus: [403], placements: ['form'] } },
      'routes[0].waf.placements: "form" is a request body: a DELETE route does not take one',
    ],
    [{ method: 'GET', waf: { blockStatus: [403], categories: ['sqli', 'csrf'] } }, 'routes[0].waf.categories[1]: must be one of'],
    [{ method: 'GET', waf: { blockStatus: [403], encodings: ['rot13'] } }, 'routes[0].waf.encodings[0]: must be one of'],
    [{ method: 'GET', waf: { blockStatus: [403], maxFalsePositiveRate: 2 } }, 'routes[0].waf.maxFalsePositiveRate: must be <= 1'],
    [{ method: 'GET', waf: { blockStatus: [403], categories: [] } }, 'routes[0].waf.categories: must list at least one item'],
    [{ method: 'GET', waf: { blockStatus: [403], placements: ['query', 'query'] } }, 'routes[0].waf.placements: lists "query" twice'],
  ])('refuses %j', (route, issue) => {
    expect(issuesOf(policyWith(route)).join('\n')).toContain(issue);
  });
});
