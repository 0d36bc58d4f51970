import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PolicyError } from '../../src/policy/errors.js';
import { parsePolicy } from '../../src/policy/load.js';
import { MALFORMED_POLICIES, validPolicy } from '../fixtures/policies/malformed.js';
import { policyIssues } from '../support/policy-issues.js';

const env = { GATECHECK_API_KEY: 'k-1234567890abcdef' };

const issuesOf = (text: string, environment: Record<string, string> = env): string[] => policyIssues(text, environment);

function mutate(change: (typeof MALFORMED_POLICIES)[number][1]): string {
  const policy = validPolicy();
  change(policy);
  return stringify(policy);
}

describe('policy loading', () => {
  it('accepts the valid policy, resolving env vars and defaults', () => {
    const policy = parsePolicy(stringify(validPolicy()), 'p.yaml', { env });
    expect(policy.credentials.main!.value).toBe(env.GATECHECK_API_KEY);
    expect(policy.routes[0]!.throttle).toMatchObject({ rateLimit: 50, burstLimit: 20, tolerance: 0.1 });
    expect(policy.routes[0]!.auth!.refuseStatus).toEqual([401, 403]);
    expect(policy.limits.maxRequests).toBeGreaterThan(0);
    expect(policy.routes[0]!.id).toBe('GET /api/items');
  });

  it('knows the line of each route, in YAML and in JSON (report.sarif points there)', () => {
    const yaml = [
      'version: 1',
      'routes:',
      '  # items',
      '  - method: GET',
      '    path: /a',
      '    slo: { p99Ms: 5 }',
      '  - { method: GET, path: /b, slo: { p99Ms: 5 } }',
    ];
    expect(parsePolicy(yaml.join('\n'), 'p.yaml', { env }).routes.map((r) => r.line)).toEqual([4, 7]);
    const json = [
      '{"version": 1, "routes": [',
      '  {"method": "GET", "path": "/a", "slo": {"p99Ms": 5}},',
      '  {"method": "GET", "path": "/b", "slo": {"p99Ms": 5}}]}',
    ];
    expect(parsePolicy(json.join('\n'), 'p.json', { env }).routes.map((r) => r.line)).toEqual([2, 3]);
  });

  it('accepts the same policy as JSON', () => {
    expect(parsePolicy(JSON.stringify(validPolicy()), 'p.json', { env }).routes).toHaveLength(1);
  });

  it('lets --target override the file and strips a trailing slash', () => {
    const policy = parsePolicy(stringify(validPolicy()), 'p.yaml', { env, targetOverride: 'https://api.example.com/prod/' });
    expect(policy.target).toBe('https://api.example.com/prod');
  });

  it.each(MALFORMED_POLICIES)('rejects %s, naming the field', (_name, change, expected) => {
    const issues = issuesOf(mutate(change));
    expect(
      issues.some((i) => i.includes(expected)),
      `issues were: ${issues.join(' | ')}`,
    ).toBe(true);
  });

  it('names a missing environment variable and where it is used', () => {
    const issues = issuesOf(stringify(validPolicy()), {});
    expect(issues).toContain('credentials.main.value: environment variable GATECHECK_API_KEY is not set');
  });

  it('reports every problem at once, not just the first', () => {
    const issues = issuesOf(
      mutate((p) => {
        const route = (p.routes as Array<{ throttle: { rateLimit: number }; method: string }>)[0]!;
        route.throttle.rateLimit = 0;
        route.method = 'FETCH';
        p.extra = 1;
      }),
    );
    expect(issues.length).toBeGreaterThanOrEqual(3);
  });

  it('gives the source line of the offending field', () => {
    const text = [
      'version: 1',
      'routes:',
      '  - method: GET',
      '    path: /x',
      '    throttle:',
      '      rateLimit: 0',
      '      burstLimit: 5',
      '',
    ].join('\n');
    try {
      parsePolicy(text, 'p.yaml', { env });
      expect.unreachable();
    } catch (error) {
      expect((error as PolicyError).message).toBe('p.yaml:6: routes[0].throttle.rateLimit: must be > 0');
    }
  });

  it('rejects text that is not YAML or JSON, with a line', () => {
    expect(issuesOf('version: 1\nroutes: [\n  {method: GET\n')[0]).toMatch(/not valid YAML\/JSON/);
  });
});
