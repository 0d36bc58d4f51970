import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PolicyError } from '../../src/policy/errors.js';
import { parsePolicy } from '../../src/policy/load.js';

const env = { GATECHECK_API_KEY: 'k-1234567890abcdef' };

/** A valid policy; each malformed case below breaks exactly one thing in a copy of it. */
function validPolicy(): Record<string, any> {
  return {
    version: 1,
    target: 'http://127.0.0.1:8080',
    credentials: { main: { header: 'x-api-key', value: '${GATECHECK_API_KEY}' } },
    routes: [
      {
        method: 'GET',
        path: '/api/items',
        auth: { required: true, credential: 'main' },
        throttle: { rateLimit: 50, burstLimit: 20 },
        cors: { allowOrigins: ['https://app.example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type', 'x-api-key'], allowCredentials: false, maxAge: 600 },
        waf: { blockStatus: [403] },
        slo: { p99Ms: 250, maxErrorRate: 0.01 },
      },
    ],
  };
}

function issuesOf(text: string, environment: Record<string, string> = env): string[] {
  try {
    parsePolicy(text, 'p.yaml', { env: environment });
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the policy to be rejected');
}

function mutate(change: (p: Record<string, any>) => void): string {
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

  it('accepts the same policy as JSON', () => {
    expect(parsePolicy(JSON.stringify(validPolicy()), 'p.json', { env }).routes).toHaveLength(1);
  });

  it('lets --target override the file and strips a trailing slash', () => {
    const policy = parsePolicy(stringify(validPolicy()), 'p.yaml', { env, targetOverride: 'https://api.example.com/prod/' });
    expect(policy.target).toBe('https://api.example.com/prod');
  });

  // Each row: what is broken, the mutation, and the path + message the error must name.
  const malformed: Array<[string, (p: Record<string, any>) => void, string]> = [
    ['rate of 0', (p) => (p.routes[0].throttle.rateLimit = 0), 'routes[0].throttle.rateLimit: must be > 0'],
    ['negative rate', (p) => (p.routes[0].throttle.rateLimit = -5), 'routes[0].throttle.rateLimit: must be > 0'],
    ['rate as a string', (p) => (p.routes[0].throttle.rateLimit = 'fast'), 'routes[0].throttle.rateLimit: must be number'],
    ['fractional burst', (p) => (p.routes[0].throttle.burstLimit = 2.5), 'routes[0].throttle.burstLimit: must be integer'],
    ['burst of 0', (p) => (p.routes[0].throttle.burstLimit = 0), 'routes[0].throttle.burstLimit: must be >= 1'],
    ['missing burst', (p) => delete p.routes[0].throttle.burstLimit, 'routes[0].throttle.burstLimit: is required'],
    ['tolerance above 1', (p) => (p.routes[0].throttle.tolerance = 1.5), 'routes[0].throttle.tolerance: must be <= 1'],
    ['unknown key in a route', (p) => (p.routes[0].throtle = {}), 'routes[0]: unknown key "throtle"'],
    ['unknown top-level key', (p) => (p.extra = true), ': unknown key "extra"'],
    ['unknown key in throttle', (p) => (p.routes[0].throttle.rate = 5), 'routes[0].throttle: unknown key "rate"'],
    ['wrong version', (p) => (p.version = 2), 'version: must be 1'],
    ['missing routes', (p) => delete p.routes, 'routes: is required'],
    ['empty routes', (p) => (p.routes = []), 'routes: must NOT have fewer than 1 items'],
    ['bad method', (p) => (p.routes[0].method = 'FETCH'), 'routes[0].method: must be one of'],
    ['path without a slash', (p) => (p.routes[0].path = 'api/items'), 'routes[0].path: has an invalid format'],
    ['bad URL', (p) => (p.target = 'not a url'), 'target: "not a url" is not a valid URL'],
    ['non-http URL', (p) => (p.target = 'ftp://example.com'), 'target: must be an http:// or https:// URL'],
    ['URL with a query', (p) => (p.target = 'http://127.0.0.1:8080/?a=1'), 'target: must not have a query string'],
    ['undefined credential', (p) => (p.routes[0].auth.credential = 'other'), 'routes[0].auth.credential: credential "other" is not defined'],
    ['auth required without credential', (p) => delete p.routes[0].auth.credential, 'routes[0].auth.credential: is required when auth.required is true'],
    ['credential without value', (p) => delete p.credentials.main.value, 'credentials.main.value: is required'],
    ['header name with a space', (p) => (p.credentials.main.header = 'x api key'), 'credentials.main.header: has an invalid format'],
    ['CORS origin with a path', (p) => (p.routes[0].cors.allowOrigins = ['https://app.example.com/path']), 'routes[0].cors.allowOrigins[0]: has an invalid format'],
    ['CORS * with credentials', (p) => { p.routes[0].cors.allowOrigins = ['*']; p.routes[0].cors.allowCredentials = true; }, 'routes[0].cors.allowOrigins: "*" cannot be combined with allowCredentials'],
    ['negative maxAge', (p) => (p.routes[0].cors.maxAge = -1), 'routes[0].cors.maxAge: must be >= 0'],
    ['WAF block status out of range', (p) => (p.routes[0].waf.blockStatus = [200]), 'routes[0].waf.blockStatus[0]: must be >= 400'],
    ['WAF without blockStatus', (p) => (p.routes[0].waf = {}), 'routes[0].waf.blockStatus: is required'],
    ['SLO error rate above 1', (p) => (p.routes[0].slo.maxErrorRate = 2), 'routes[0].slo.maxErrorRate: must be <= 1'],
    ['SLO with no objective', (p) => (p.routes[0].slo = { durationSec: 2 }), 'routes[0].slo: sets no objective'],
    ['duplicate route', (p) => p.routes.push({ method: 'GET', path: '/api/items' }), 'routes[1]: duplicates routes[0]'],
    ['limits: zero requests', (p) => (p.limits = { maxRequests: 0 }), 'limits.maxRequests: must be >= 1'],
    ['limits: unbounded duration', (p) => (p.limits = { maxDurationSec: 1e9 }), 'limits.maxDurationSec: must be <= 86400'],
  ];

  it.each(malformed)('rejects %s, naming the field', (_name, change, expected) => {
    const issues = issuesOf(mutate(change));
    expect(issues.some((i) => i.includes(expected)), `issues were: ${issues.join(' | ')}`).toBe(true);
  });

  it('names a missing environment variable and where it is used', () => {
    const issues = issuesOf(stringify(validPolicy()), {});
    expect(issues).toContain('credentials.main.value: environment variable GATECHECK_API_KEY is not set');
  });

  it('reports every problem at once, not just the first', () => {
    const issues = issuesOf(mutate((p) => { p.routes[0].throttle.rateLimit = 0; p.routes[0].method = 'FETCH'; p.extra = 1; }));
    expect(issues.length).toBeGreaterThanOrEqual(3);
  });

  it('gives the source line of the offending field', () => {
    const text = ['version: 1', 'routes:', '  - method: GET', '    path: /x', '    throttle:', '      rateLimit: 0', '      burstLimit: 5', ''].join('\n');
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
