/**
 * JWT credentials in the policy: `kind: jwt` needs a JWT, `expiredValue` needs `kind: jwt`, and
 * no message ever quotes the secret.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePolicy } from '../../src/policy/load.js';
import { policyIssues } from '../support/policy-issues.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl';

function policy(credential: Record<string, unknown>): string {
  return stringify({
    version: 1,
    credentials: { user: { header: 'authorization', scheme: 'Bearer', ...credential } },
    routes: [{ method: 'GET', path: '/me', auth: { required: true, credential: 'user' } }],
  });
}

const issuesOf = (text: string, env: Record<string, string> = {}): string[] => policyIssues(text, env);

describe('JWT credentials in the policy', () => {
  it('resolves kind and expiredValue; opaque credentials carry no kind', () => {
    const p = parsePolicy(policy({ kind: 'jwt', value: '${JWT}', expiredValue: '${JWT_OLD}' }), 'p.yaml', {
      env: { JWT: TOKEN, JWT_OLD: TOKEN },
    });
    expect(p.credentials.user).toEqual({
      name: 'user',
      header: 'authorization',
      scheme: 'Bearer',
      value: TOKEN,
      kind: 'jwt',
      expiredValue: TOKEN,
    });
    expect(parsePolicy(policy({ value: 'opaque-token-1234' }), 'p.yaml', { env: {} }).credentials.user!.kind).toBeUndefined();
  });

  it.each([
    [{ kind: 'jwt', value: 'not-a-jwt-secret' }, 'credentials.user.value: kind is jwt, but the value is not a JWT'],
    [{ kind: 'jwt', value: TOKEN, expiredValue: 'old-secret' }, 'credentials.user.expiredValue: is not a JWT'],
    [{ value: TOKEN, expiredValue: TOKEN }, 'credentials.user.expiredValue: is only used with kind: jwt'],
    [{ kind: 'saml', value: TOKEN }, 'credentials.user.kind: must be one of "opaque", "jwt"'],
  ])('refuses %j without quoting the secret', (credential, issue) => {
    const issues = issuesOf(policy(credential)).join('\n');
    expect(issues).toContain(issue);
    expect(issues).not.toContain('not-a-jwt-secret');
    expect(issues).not.toContain('old-secret');
  });

  it('reports an unset variable once, not also as "not a JWT"', () => {
    expect(issuesOf(policy({ kind: 'jwt', value: '${JWT}' }))).toEqual(['credentials.user.value: environment variable JWT is not set']);
  });
});
