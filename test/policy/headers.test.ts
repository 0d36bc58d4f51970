import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/load.js';
import { policyRedactor } from '../../src/util/redact.js';
import { policyIssues } from '../support/policy-issues.js';

const env = { KEY: 'k-1234567890abcdef', TENANT: 'tenant-abc-123' };

const policy = (headers: string, routeHeaders = '') => `
version: 1
target: http://127.0.0.1:9
credentials: { main: { header: x-api-key, value: "\${KEY}" } }
${headers}
routes:
  - { method: GET, path: /a, slo: { p99Ms: 5 }${routeHeaders} }
  - { method: GET, path: /b, slo: { p99Ms: 5 } }
`;

describe('policy headers', () => {
  it('merges a route’s headers over the top-level ones, names lower-cased', () => {
    const loaded = parsePolicy(
      policy('headers: { X-Tenant: "${TENANT}", X-Team: core, Host: api.example.com }', ', headers: { x-team: reports }'),
      'p.yaml',
      { env },
    );
    expect(loaded.headers).toEqual({ 'x-tenant': env.TENANT, 'x-team': 'core', host: 'api.example.com' });
    expect(loaded.routes[0]!.headers).toEqual({ 'x-tenant': env.TENANT, 'x-team': 'reports', host: 'api.example.com' });
    expect(loaded.routes[1]!.headers).toEqual(loaded.headers);
  });

  it('keeps a value taken from the environment as a secret: redacted like a credential', () => {
    const loaded = parsePolicy(policy('headers: { X-Tenant: "t-${TENANT}", X-Team: core }'), 'p.yaml', { env });
    expect(loaded.headerSecrets).toEqual([{ name: 'x-tenant', value: `t-${env.TENANT}` }]);
    const redactor = policyRedactor(loaded);
    expect(redactor.redact(`sent x-tenant: t-${env.TENANT}, x-team: core, key ${env.KEY}`)).toBe(
      'sent x-tenant: <header x-tenant>, x-team: core, key <credential main>',
    );
  });

  it('a policy without headers has none (the User-Agent is the client’s default)', () => {
    const loaded = parsePolicy(policy(''), 'p.yaml', { env });
    expect(loaded.headers).toBeUndefined();
    expect(loaded.routes[0]!.headers).toBeUndefined();
    expect(loaded.headerSecrets).toBeUndefined();
  });

  it('refuses headers the client writes, a credential’s header, a name twice, and an unset variable, in one pass', () => {
    const issues = policyIssues(
      policy('headers: { Content-Length: "5", X-API-Key: abc, X-Other: "${UNSET_VAR}" }', ', headers: { X-Team: a, x-team: b }'),
      env,
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'headers.Content-Length: "content-length" is written by the HTTP client itself (it frames the request): drop it',
        'headers.X-API-Key: "x-api-key" is the header of credential "main": put it under credentials (the auth check leaves it out)',
        'headers.X-Other: environment variable UNSET_VAR is not set',
        'routes[0].headers.x-team: names the same header as another entry (header names ignore case)',
      ]),
    );
  });

  it('the schema refuses a name that is not an HTTP token and a value that is not a string', () => {
    const issues = policyIssues(policy('headers: { "bad name": x, X-Count: 5 }'), env);
    expect(issues.some((i) => i.startsWith('headers'))).toBe(true);
    expect(issues.length).toBeGreaterThanOrEqual(2);
  });
});
