import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePolicy } from '../../src/policy/load.js';
import { DEFAULT_METRICS_TOLERANCE } from '../../src/policy/types.js';
import { policyIssues } from '../support/policy-issues.js';

const env = { GATECHECK_API_KEY: 'k-1234567890abcdef' };

function policyWith(metrics: unknown): string {
  return stringify({ version: 1, target: 'http://127.0.0.1:8080', routes: [{ method: 'GET', path: '/health' }], metrics });
}

const issuesOf = (metrics: unknown): string[] => policyIssues(policyWith(metrics), env);

describe('the metrics block of a policy', () => {
  it('resolves a REST API with defaults (detailed off, Rule ALL, tolerances, a 240 s wait)', () => {
    const policy = parsePolicy(
      policyWith({ cloudwatch: { region: 'eu-west-1', api: { type: 'REST', name: 'shop', stage: 'prod' }, waf: { webAcl: 'shop-acl' } } }),
      'p.yaml',
      { env },
    );
    expect(policy.metrics).toEqual({
      cloudwatch: {
        region: 'eu-west-1',
        api: { type: 'REST', name: 'shop', stage: 'prod', detailed: false },
        waf: { webAcl: 'shop-acl', rule: 'ALL' },
      },
      tolerance: DEFAULT_METRICS_TOLERANCE,
      waitSec: 240,
    });
  });

  it('resolves an HTTP API by id, an endpoint, and tolerance overrides', () => {
    const policy = parsePolicy(
      policyWith({
        cloudwatch: { endpoint: 'http://127.0.0.1:4566/', api: { type: 'HTTP', id: 'a1b2c3d4e5', stage: '$default', detailed: true } },
        tolerance: { countAbsolute: 3 },
        waitSec: 30,
      }),
      'p.yaml',
      { env },
    );
    expect(policy.metrics!.cloudwatch).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      api: { type: 'HTTP', id: 'a1b2c3d4e5', stage: '$default', detailed: true },
    });
    expect(policy.metrics!.tolerance.countAbsolute).toBe(3);
    expect(policy.metrics!.tolerance.countRelative).toBe(DEFAULT_METRICS_TOLERANCE.countRelative);
    expect(policy.metrics!.waitSec).toBe(30);
  });

  it.each([
    [
      'a REST API without a name',
      { cloudwatch: { api: { type: 'REST', stage: 'prod' } } },
      ['metrics.cloudwatch.api.name: is required for a REST API (its metrics are keyed by ApiName)'],
    ],
    [
      'a REST API by id',
      { cloudwatch: { api: { type: 'REST', name: 'x', id: 'a1b2c3d4e5', stage: 'p' } } },
      ['metrics.cloudwatch.api.id: is not used for a REST API (its metrics are keyed by ApiName, not the id): give `name`'],
    ],
    [
      'an HTTP API by name (no lookup)',
      { cloudwatch: { api: { type: 'HTTP', name: 'shop', stage: 'p' } } },
      [
        'metrics.cloudwatch.api.id: is required for an HTTP API (its metrics are keyed by ApiId; ' +
          'gatecheck does not look names up: `aws apigatewayv2 get-apis` lists the ids)',
        'metrics.cloudwatch.api.name: is not supported for an HTTP API: give its `id` instead',
      ],
    ],
    [
      'an unknown API type',
      { cloudwatch: { api: { type: 'GRAPHQL', name: 'x', stage: 'p' } } },
      ['metrics.cloudwatch.api.type: must be one of "REST", "HTTP", "WEBSOCKET"'],
    ],
    [
      'a bad Region',
      { cloudwatch: { region: 'Ireland', api: { type: 'REST', name: 'x', stage: 'p' } } },
      ['metrics.cloudwatch.region: must be an AWS Region name such as eu-west-1 (got "Ireland")'],
    ],
    [
      'an unknown key',
      { cloudwatch: { api: { type: 'REST', name: 'x', stage: 'p', stages: 'q' } } },
      ['metrics.cloudwatch.api.stages: unknown key: did you mean `stage`?'],
    ],
    ['no stage', { cloudwatch: { api: { type: 'REST', name: 'x' } } }, ['metrics.cloudwatch.api.stage: is required']],
    [
      'a WAF without a web ACL',
      { cloudwatch: { api: { type: 'REST', name: 'x', stage: 'p' }, waf: {} } },
      ['metrics.cloudwatch.waf.webAcl: is required'],
    ],
    [
      'a tolerance out of range',
      { cloudwatch: { api: { type: 'REST', name: 'x', stage: 'p' } }, tolerance: { countRelative: 2 } },
      ['metrics.tolerance.countRelative: must be <= 1'],
    ],
    [
      'an endpoint with credentials',
      { cloudwatch: { endpoint: 'http://user:pw@127.0.0.1:1', api: { type: 'REST', name: 'x', stage: 'p' } } },
      ['metrics.cloudwatch.endpoint: must not carry credentials; use `credentials` with an environment variable'],
    ],
  ])('rejects %s, naming the field', (_name, metrics, expected) => {
    expect(issuesOf(metrics)).toEqual(expected);
  });
});
