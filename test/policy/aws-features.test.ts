import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/policy/errors.js';
import { parsePolicy } from '../../src/policy/load.js';

const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example-key', AWS_SESSION_TOKEN: 'token-example' };
const load = (text: string) => parsePolicy(text, 'p.yaml', { env });
const problems = (text: string): string[] => {
  try {
    load(text);
    return [];
  } catch (error) {
    return (error as PolicyError).issues.map((i) => `${i.path}: ${i.message}`);
  }
};

describe('sigv4 credentials', () => {
  it('loads keys from the environment, service defaulting to execute-api', () => {
    const policy = load(`version: 1
credentials:
  iam:
    kind: sigv4
    region: eu-west-1
    accessKeyId: "\${AWS_ACCESS_KEY_ID}"
    secretAccessKey: "\${AWS_SECRET_ACCESS_KEY}"
    sessionToken: "\${AWS_SESSION_TOKEN}"
routes: [{ method: GET, path: /a, auth: { required: true, credential: iam } }]
`);
    expect(policy.credentials.iam).toEqual({
      name: 'iam',
      header: 'authorization',
      value: 'secret-example-key',
      kind: 'sigv4',
      sigv4: {
        region: 'eu-west-1',
        service: 'execute-api',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret-example-key',
        sessionToken: 'token-example',
      },
    });
  });

  it('names every missing or misplaced field', () => {
    expect(
      problems(`version: 1
credentials:
  a: { kind: sigv4, region: us-east-1, accessKeyId: AKID }
  d: { kind: sigv4, region: moon, accessKeyId: AKID, secretAccessKey: s }
  e: { header: x-api-key }
routes: [{ method: GET, path: /a }]
`),
    ).toEqual([
      'credentials.a.secretAccessKey: is required',
      'credentials.d.region: must be an AWS Region name such as eu-west-1 (got "moon")',
      'credentials.e.value: is required',
    ]);
    expect(
      problems(`version: 1
credentials:
  b: { kind: sigv4, region: us-east-1, accessKeyId: AKID, secretAccessKey: s, value: v }
  c: { value: v, region: us-east-1 }
routes: [{ method: GET, path: /a }]
`),
    ).toEqual([
      'credentials.b.value: is not used with kind: sigv4 (requests are signed with the keys instead)',
      'credentials.c.region: is only used with kind: sigv4',
    ]);
  });
});

describe('canary and tracing', () => {
  it('applies the defaults and the top-level tracing', () => {
    const policy = load(`version: 1
tracing: { required: true }
routes:
  - { method: GET, path: /a, canary: { percent: 10, marker: { header: x-canary, value: "true" } } }
`);
    expect(policy.routes[0]!.canary).toEqual({
      percent: 10,
      marker: { header: 'x-canary', value: 'true' },
      precision: 0.02,
      confidence: 0.95,
    });
    expect(policy.routes[0]!.tracing).toEqual({ required: true });
  });

  it('refuses a marker with both or neither place, and a precision wider than the share', () => {
    const issues = problems(`version: 1
routes:
  - { method: GET, path: /a, canary: { percent: 10, marker: { header: x, bodyField: y, value: "1" } } }
  - { method: GET, path: /b, canary: { percent: 10, marker: { value: "1" } } }
  - { method: GET, path: /d, canary: { percent: 100, marker: { header: x, value: "1" } } }
`);
    expect(issues.some((i) => i.startsWith('routes[0].canary.marker'))).toBe(true);
    expect(issues.some((i) => i.startsWith('routes[1].canary.marker'))).toBe(true);
    expect(issues.some((i) => i.startsWith('routes[2].canary.percent'))).toBe(true);
    expect(
      problems(`version: 1
routes: [{ method: GET, path: /c, canary: { percent: 1, precision: 0.02, marker: { header: x, value: "1" } } }]
`),
    ).toEqual([expect.stringMatching(/^routes\[0\]\.canary\.precision: ±0.02 is wider than the canary's share \(0.01\)/)]);
  });
});
