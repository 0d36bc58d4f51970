/**
 * The drift comparison is pure: a check's result, the policy and a DeployedConfig give the
 * configured column and the findings. Hand-made inputs, one rule per case (docs/findings.md, drift).
 */
import { describe, expect, it } from 'vitest';
import type { DeployedConfig, DeployedRoute } from '../../src/aws/deployed.js';
import { parseMethodSettingKey, throttleFor } from '../../src/aws/method-settings.js';
import type { CheckResult, Finding } from '../../src/checks/types.js';
import { applyDrift, driftFor } from '../../src/drift/compare.js';
import { parsePolicy } from '../../src/policy/load.js';

const POLICY = parsePolicy(
  `version: 1
credentials: { main: { value: k1 }, gold: { value: k2 } }
routes:
  - method: GET
    path: /orders/42
    auth: { required: true, credential: main }
    throttle: { rateLimit: 20, burstLimit: 10, tolerance: 0.1 }
    quota: { limit: 1000, period: DAY, credential: gold }
    usagePlans: [{ name: gold, credential: gold, rateLimit: 15, burstLimit: 8 }]
    cors: { allowOrigins: [https://app.example.com], allowMethods: [GET], maxAge: 600 }
    waf: { blockStatus: [403] }
`,
  'p.yaml',
  { env: {} },
);
const ROUTE = 'GET /orders/42';

function deployed(route: Partial<DeployedRoute> = {}, extra: Partial<DeployedConfig> = {}): DeployedConfig {
  return {
    api: { type: 'REST', id: 'abc', stage: 'prod', region: 'us-east-1', invokeUrl: 'https://x' },
    routes: [
      {
        method: 'GET',
        path: '/orders/{id}',
        throttle: { value: { rateLimit: 20, burstLimit: 10 }, source: 'GetStage methodSettings orders~1{id}/GET' },
        auth: { value: { required: true, apiKeyRequired: true, authorizationType: 'NONE' }, source: 'GetResources' },
        usagePlans: [
          {
            planId: 'p1',
            name: 'gold',
            throttle: { value: { rateLimit: 15, burstLimit: 8 }, source: 'GetUsagePlans gold throttle' },
            quota: { value: { limit: 1000, period: 'DAY' }, source: 'GetUsagePlans gold quota' },
          },
        ],
        ...route,
      },
    ],
    usagePlans: [],
    cors: {
      value: {
        allowOrigins: ['https://app.example.com'],
        allowMethods: ['GET', 'OPTIONS'],
        allowHeaders: [],
        exposeHeaders: [],
        maxAge: 600,
      },
      source: 'GetResources /orders/{id} OPTIONS integration response 200',
    },
    preflightPaths: ['/orders/{id}'],
    corsOnErrors: [],
    waf: { value: { arn: 'arn', name: 'acl' }, source: 'wafv2 GetWebACLForResource' },
    unreadable: [],
    ...extra,
  };
}

function check(kind: string, observed: Record<string, unknown> = {}, findings: string[] = [], idSuffix = ''): CheckResult {
  const id = `${kind}:${ROUTE}${idSuffix}`;
  return {
    id,
    kind: kind as CheckResult['kind'],
    route: ROUTE,
    status: 'pass',
    summary: '',
    expected: {},
    observed,
    evidence: [],
    findings: findings.map((slug): Finding => ({ id: `${id}#${slug}`, severity: 'critical', title: slug, detail: '', evidence: [] })),
    durationMs: 0,
    requestsSent: 0,
  };
}

const ids = (c: CheckResult, d: DeployedConfig) => driftFor(c, POLICY, d)?.findings.map((f) => `${f.id} ${f.severity}`) ?? [];
const MEASURED = {
  ratePerSec: 20.3,
  rateUncertaintyPerSec: 1,
  rateIsLowerBound: false,
  burst: 10,
  burstUncertainty: 1,
  burstIsLowerBound: false,
};

describe('drift: configured vs policy vs measured', () => {
  it('all three agree: configured rows for every compared kind, no finding', () => {
    for (const kind of ['throttle', 'auth', 'quota', 'cors', 'waf']) {
      const drift = driftFor(check(kind, kind === 'throttle' ? MEASURED : {}), POLICY, deployed());
      expect(drift?.findings, kind).toEqual([]);
      expect(drift?.configured.length, kind).toBeGreaterThan(0);
    }
    expect(driftFor(check('throttle', MEASURED), POLICY, deployed())!.configured[0]).toEqual({
      field: 'rateLimit',
      policy: 20,
      configured: 20,
      measured: '20.3 ± 1/s',
      source: 'GetStage methodSettings orders~1{id}/GET',
    });
  });

  it('throttle changed in AWS: high configured-vs-policy; measured-vs-configured only when wholly outside the tolerance', () => {
    // Configured 21: measured 20.3 ± 1 overlaps 21 ± 10%: best-effort, no measured-vs-configured.
    const near = deployed({ throttle: { value: { rateLimit: 21, burstLimit: 10 }, source: 's' } });
    expect(ids(check('throttle', MEASURED), near)).toEqual(['drift:configured-vs-policy:rateLimit high']);
    // Configured 40: measured 20.3 ± 1 is far below 36: the gateway does not do what AWS says.
    const far = deployed({ throttle: { value: { rateLimit: 40, burstLimit: 10 }, source: 's' } });
    expect(ids(check('throttle', MEASURED), far)).toEqual([
      'drift:configured-vs-policy:rateLimit high',
      'drift:measured-vs-configured:rateLimit high',
    ]);
    // A lower bound (client-bound run) is never "too low" against a higher configured rate.
    const lower = { ...MEASURED, rateIsLowerBound: true };
    expect(ids(check('throttle', lower), far)).toEqual(['drift:configured-vs-policy:rateLimit high']);
    // No throttle in AWS at all: said, not compared with the measurement.
    const none = deployed({ throttle: undefined });
    expect(ids(check('throttle', MEASURED), none)).toEqual([
      'drift:configured-vs-policy:rateLimit high',
      'drift:configured-vs-policy:burstLimit high',
    ]);
  });

  it("a usage-plan check compares that plan's throttle", () => {
    const changed = deployed({
      usagePlans: [
        { planId: 'p1', name: 'gold', throttle: { value: { rateLimit: 15, burstLimit: 4 }, source: 'GetUsagePlans gold throttle' } },
      ],
    });
    expect(ids(check('throttle', {}, [], ' [plan gold]'), changed)).toEqual(['drift:configured-vs-policy:burstLimit high']);
    // The method no longer requires a key: no plan applies to it.
    expect(ids(check('throttle', {}, [], ' [plan gold]'), deployed({ usagePlans: [] }))).toEqual([
      'drift:configured-vs-policy:rateLimit high',
      'drift:configured-vs-policy:burstLimit high',
    ]);
  });

  it('auth: configured open is high; a bypass where AWS requires auth is measured-vs-configured', () => {
    const open = deployed({
      auth: { value: { required: false, apiKeyRequired: false, authorizationType: 'NONE' }, source: 'GetResources' },
    });
    expect(ids(check('auth'), open)).toEqual(['drift:configured-vs-policy:required high', 'drift:measured-vs-configured:required medium']);
    expect(ids(check('auth', {}, ['bypass:missing']), deployed())).toEqual(['drift:measured-vs-configured:required high']);
  });

  it('quota, CORS and WAF differences are medium', () => {
    const quota = deployed({
      usagePlans: [{ planId: 'p1', name: 'gold', quota: { value: { limit: 500, period: 'DAY' }, source: 'GetUsagePlans gold quota' } }],
    });
    expect(ids(check('quota'), quota)).toEqual(['drift:configured-vs-policy:limit medium']);
    const cors = deployed(
      {},
      { cors: { value: { allowOrigins: ['*'], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: [] }, source: 's' } },
    );
    expect(ids(check('cors'), cors)).toEqual([
      'drift:configured-vs-policy:allowOrigins medium',
      'drift:configured-vs-policy:maxAge medium',
    ]);
    expect(ids(check('waf'), deployed({}, { waf: { value: null, source: 'wafv2 GetWebACLForResource' } }))).toEqual([
      'drift:configured-vs-policy:webAcl medium',
    ]);
    expect(ids(check('waf', {}, ['waf-not-blocking']), deployed())).toEqual(['drift:measured-vs-configured:webAcl medium']);
  });

  it('a route AWS does not have, an unread setting, a skipped check', () => {
    expect(ids(check('auth'), deployed({ method: 'POST' }))).toEqual(['drift:configured-vs-policy:route medium']);
    const unread = deployed(
      {},
      {
        waf: undefined,
        unreadable: [{ setting: 'WAF association', call: 'wafv2 GetWebACLForResource', code: 'AccessDenied', reason: 'x' }],
      },
    );
    expect(ids(check('waf'), unread)).toEqual(['drift:unreadable:waf-association info']);
    expect(driftFor({ ...check('auth'), status: 'skip' }, POLICY, deployed())).toBeUndefined();
    expect(driftFor(check('slo'), POLICY, deployed())).toBeUndefined();
  });

  it('applyDrift qualifies the findings with the check id and keeps the check’s own', () => {
    const open = deployed({
      auth: { value: { required: false, apiKeyRequired: false, authorizationType: 'NONE' }, source: 'GetResources' },
    });
    const [result] = applyDrift([check('auth', {}, ['bypass:missing'])], POLICY, open);
    expect(result!.findings.map((f) => f.id)).toEqual([
      'auth:GET /orders/42#bypass:missing',
      'auth:GET /orders/42#drift:configured-vs-policy:required',
    ]);
  });
});

/** The fields issue 14 added: tracing, a canary, and an IAM (SigV4) credential on a second route. */
const POLICY_14 = parsePolicy(
  `version: 1
tracing: { required: true }
credentials:
  main: { value: k1 }
  iam: { kind: sigv4, region: us-east-1, accessKeyId: AKID, secretAccessKey: s }
routes:
  - method: GET
    path: /orders/42
    auth: { required: true, credential: main }
    canary: { percent: 10, marker: { header: x-canary, value: "true" } }
  - method: GET
    path: /admin
    auth: { required: true, credential: iam }
`,
  'p.yaml',
  { env: {} },
);
const ADMIN = 'GET /admin';
const iamRoute: DeployedRoute = {
  method: 'GET',
  path: '/admin',
  auth: { value: { required: true, apiKeyRequired: false, authorizationType: 'AWS_IAM' }, source: 'GetResources /admin GET' },
  usagePlans: [],
};
const with14 = (extra: Partial<DeployedConfig> = {}, admin: Partial<DeployedRoute> = {}): DeployedConfig => {
  const base = deployed({}, { tracing: { value: true, source: 'GetStage tracingEnabled' }, ...extra });
  return {
    ...base,
    canary: 'canary' in extra ? extra.canary : { value: { percentTraffic: 10 }, source: 'GetStage canarySettings' },
    routes: [...base.routes, { ...iamRoute, ...admin }],
  };
};
const on = (c: CheckResult, route: string): CheckResult => ({ ...c, id: c.id.replace(ROUTE, route), route });
const ids14 = (c: CheckResult, d: DeployedConfig) => driftFor(c, POLICY_14, d)?.findings.map((f) => `${f.id} ${f.severity}`) ?? [];

describe('drift: tracing, canary, IAM (issue 14 fields)', () => {
  it('all agree: configured rows, no finding', () => {
    for (const c of [check('tracing'), check('canary', { sharePercent: 9.8, interval: { lowPercent: 8.1, highPercent: 11.8 } })]) {
      const drift = driftFor(c, POLICY_14, with14())!;
      expect(drift.findings, c.kind).toEqual([]);
    }
    expect(driftFor(check('tracing'), POLICY_14, with14())!.configured).toEqual([
      { field: 'tracing', policy: true, configured: true, measured: 'trace header kept', source: 'GetStage tracingEnabled' },
    ]);
    const canary = check('canary', { sharePercent: 9.8, interval: { lowPercent: 8.1, highPercent: 11.8 } });
    expect(driftFor(canary, POLICY_14, with14())!.configured[0]).toMatchObject({
      policy: 10,
      configured: 10,
      measured: '9.8% (8.1–11.8%)',
    });
    const sigv4 = driftFor(on(check('sigv4'), ADMIN), POLICY_14, with14())!;
    expect(sigv4.findings).toEqual([]);
    expect(sigv4.configured).toEqual([
      { field: 'authorizationType', policy: 'AWS_IAM', configured: 'AWS_IAM', measured: 'refused', source: 'GetResources /admin GET' },
    ]);
  });

  it('tracing off in AWS, or a canary percent changed or gone: medium configured-vs-policy', () => {
    expect(ids14(check('tracing'), with14({ tracing: { value: false, source: 'GetStage tracingEnabled' } }))).toEqual([
      'drift:configured-vs-policy:tracing medium',
    ]);
    expect(ids14(check('canary'), with14({ canary: { value: { percentTraffic: 25 }, source: 'GetStage canarySettings' } }))).toEqual([
      'drift:configured-vs-policy:percent medium',
    ]);
    expect(ids14(check('canary'), with14({ canary: { value: null, source: 'GetStage canarySettings' } }))).toEqual([
      'drift:configured-vs-policy:percent medium',
    ]);
    // An HTTP API has neither: said as such.
    const http = with14({
      api: { type: 'HTTP', id: 'h', stage: '$default', region: 'us-east-1', invokeUrl: 'https://h' },
      tracing: undefined,
      canary: undefined,
    });
    const row = driftFor(check('tracing'), POLICY_14, http)!;
    expect(row.configured[0]).toMatchObject({ configured: null, source: 'HTTP API: no X-Ray tracing setting (REST stages only)' });
    expect(row.findings.map((f) => f.id)).toEqual(['drift:configured-vs-policy:tracing']);
  });

  it('IAM: a sigv4 route AWS no longer authorizes with AWS_IAM, and an AWS_IAM method the policy calls with a key, are high', () => {
    const opened = with14({}, { auth: { value: { required: false, apiKeyRequired: false, authorizationType: 'NONE' }, source: 'g' } });
    expect(ids14(on(check('sigv4', {}, ['bypass:unsigned']), ADMIN), opened)).toEqual([
      'drift:configured-vs-policy:authorizationType high',
    ]);
    expect(driftFor(on(check('sigv4', {}, ['bypass:unsigned']), ADMIN), POLICY_14, opened)!.configured[0]).toMatchObject({
      configured: 'NONE',
      measured: 'bypassed',
    });
    const iamOrders = with14();
    iamOrders.routes[0] = { ...iamOrders.routes[0]!, auth: iamRoute.auth! };
    expect(ids14(check('auth'), iamOrders)).toEqual(['drift:configured-vs-policy:authorizationType high']);
    expect(driftFor(check('auth'), POLICY_14, iamOrders)!.configured.at(-1)).toEqual({
      field: 'authorizationType',
      policy: 'opaque credential main',
      configured: 'AWS_IAM',
      source: 'GetResources /admin GET',
    });
  });
});

describe('method settings keys', () => {
  it.each([
    ['orders/GET', '/orders', 'GET'],
    ['~1orders/GET', '/orders', 'GET'],
    ['~1orders~1{id}/get', '/orders/{id}', 'GET'],
    ['orders/{id}/DELETE', '/orders/{id}', 'DELETE'],
  ])('%s → %s %s', (key, path, method) => expect(parseMethodSettingKey(key)).toEqual({ path, method }));

  it('*/* is the stage, not a method; no throttle set is undefined', () => {
    expect(parseMethodSettingKey('*/*')).toBeUndefined();
    expect(throttleFor({ '*/*': { throttlingRateLimit: 5 } }, '/a', 'GET')).toBeUndefined();
    expect(throttleFor({}, '/a', 'GET')).toBeUndefined();
  });
});
