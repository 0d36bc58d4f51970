/**
 * The reads moto 5.2.1 cannot serve, with aws-sdk-client-mock standing in for API Gateway (each
 * gap confirmed in moto's source, see docs/drift.md): it drops `canarySettings` (so the canary's
 * commented block from `init` and the canary percent drift are tested here), ignores usage-plan
 * per-method throttle patches (`/apiStages/<api>:<stage>/throttle/...`), stores method-settings
 * keys as written (`~1orders/GET`, where AWS answers `orders/GET`), has no apigatewayv2
 * UpdateStage (an HTTP stage's limits cannot change after creation), returns no default gateway
 * responses, and has no apigatewayv2 GetAuthorizers list (gatecheck reads GetAuthorizer per id).
 * Also: refused and unimplemented reads are named, never guessed. Everything moto does serve is
 * tested over the wire (init-moto.test.ts, drift-e2e.test.ts).
 */
import {
  APIGatewayClient,
  GetAccountCommand,
  GetAuthorizersCommand,
  GetGatewayResponsesCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetStageCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { ApiGatewayV2Client, GetApiCommand, GetRoutesCommand, GetStageCommand as GetStageV2Command } from '@aws-sdk/client-apigatewayv2';
import { GetWebACLForResourceCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { classifyAwsError } from '../../src/aws/errors.js';
import { readDeployedConfig } from '../../src/aws/read.js';
import type { CheckResult } from '../../src/checks/types.js';
import { driftFor } from '../../src/drift/compare.js';
import { writePolicy } from '../../src/drift/policy-writer.js';
import { schemaIssues } from '../../src/policy/schema.js';
import { parsePolicy } from '../../src/policy/load.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const gw = mockClient(APIGatewayClient);
const v2 = mockClient(ApiGatewayV2Client);
const waf = mockClient(WAFV2Client);
const CONNECTION = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-real' } };
const REST = { type: 'REST' as const, id: 'abc123defg', stage: 'prod' };

/** A service error as the SDK throws it. */
function awsError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

const method = (httpMethod: string, apiKeyRequired: boolean) => ({ httpMethod, apiKeyRequired, authorizationType: 'NONE' });

/** A REST API as AWS itself answers: what moto would give, plus what it cannot. */
function awsRestApi(stage: Record<string, unknown> = {}): void {
  gw.on(GetRestApiCommand).resolves({ id: REST.id, name: 'orders-api' });
  gw.on(GetStageCommand).resolves({
    stageName: 'prod',
    // AWS's own spelling: the resource path without its leading slash, no ~1 escape.
    methodSettings: {
      '*/*': { throttlingRateLimit: 100, throttlingBurstLimit: 50 },
      'orders/GET': { throttlingRateLimit: 20, throttlingBurstLimit: 10 },
      'orders/POST': { throttlingRateLimit: 5 },
    },
    tracingEnabled: false,
    ...stage,
  });
  gw.on(GetResourcesCommand).resolves({
    items: [
      { id: 'r0', path: '/' },
      { id: 'r1', path: '/orders', resourceMethods: { GET: method('GET', true), POST: method('POST', true) } },
    ],
  });
  gw.on(GetAuthorizersCommand).resolves({ items: [] });
  gw.on(GetUsagePlansCommand).resolves({
    items: [
      {
        id: 'p1',
        name: 'gold',
        throttle: { rateLimit: 15, burstLimit: 8 },
        quota: { limit: 1000, period: 'DAY' },
        // A per-method throttle inside the plan: moto ignores the patch that sets it.
        apiStages: [{ apiId: REST.id, stage: 'prod', throttle: { '/orders/GET': { rateLimit: 3, burstLimit: 2 } } }],
      },
      { id: 'p2', name: 'other-api', throttle: { rateLimit: 1, burstLimit: 1 }, apiStages: [{ apiId: 'zzz', stage: 'prod' }] },
    ],
  });
  // API Gateway lists its default responses (defaultResponse: true) whether or not they were put; moto lists none.
  gw.on(GetGatewayResponsesCommand).resolves({
    items: [
      {
        responseType: 'DEFAULT_4XX',
        defaultResponse: false,
        responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'" },
      },
      { responseType: 'DEFAULT_5XX', defaultResponse: true, responseParameters: {} },
      { responseType: 'THROTTLED', defaultResponse: true },
    ],
  });
  gw.on(GetAccountCommand).resolves({ throttleSettings: { rateLimit: 10000, burstLimit: 5000 } });
  waf.on(GetWebACLForResourceCommand).resolves({});
}

beforeEach(() => {
  gw.reset();
  v2.reset();
  waf.reset();
});
afterEach(() => {
  gw.reset();
  v2.reset();
  waf.reset();
});

describe('REST reads moto cannot serve (aws-sdk-client-mock)', () => {
  it('canarySettings (moto drops them): written commented out (AWS cannot say the marker); drift compares the percent', async () => {
    awsRestApi({ canarySettings: { percentTraffic: 12.5, deploymentId: 'dep2', useStageCache: false } });
    const config = await readDeployedConfig(CONNECTION, REST);
    expect(config.canary).toEqual({
      value: { percentTraffic: 12.5, deploymentId: 'dep2', useStageCache: false },
      source: 'GetStage canarySettings',
    });
    const text = writePolicy(config);
    expect(text).toContain('#   percent: 12.5 # from GetStage canarySettings percentTraffic');
    // Commented out: the written policy validates without a marker, and no route has a canary yet.
    const written = parse(text) as { routes: Array<Record<string, unknown>> };
    expect(schemaIssues(written)).toEqual([]);
    expect(written.routes.filter((r) => 'canary' in r)).toEqual([]);
    // Uncommented, with the backend's marker put in, it is a valid canary block.
    const uncommented = text.replace(/^( *)# ( {0,2}(?:canary:|percent:|marker:).*)$/gm, '$1$2');
    const used = parse(uncommented) as { routes: Array<{ canary?: { percent: number; marker: Record<string, string> } }> };
    expect(used.routes.map((r) => r.canary)).toEqual([
      { percent: 12.5, marker: { header: 'x-canary', value: 'true' } },
      { percent: 12.5, marker: { header: 'x-canary', value: 'true' } },
    ]);
    expect(schemaIssues(used)).toEqual([]);

    // run --drift: the canary check's route, the policy at 10 %, AWS at 12.5 %.
    const policy = parsePolicy(
      'version: 1\nroutes:\n  - method: GET\n    path: /orders\n    canary: { percent: 10, marker: { header: x-canary, value: "true" } }\n',
      'p.yaml',
      { env: {} },
    );
    const drift = driftFor(result('canary', 'GET /orders'), policy, config)!;
    expect(drift.configured).toEqual([
      { field: 'percent', policy: 10, configured: 12.5, source: 'GetStage canarySettings percentTraffic' },
    ]);
    expect(drift.findings.map((f) => [f.id, f.severity, f.title])).toEqual([
      ['drift:configured-vs-policy:percent', 'medium', 'canary percentTraffic configured 12.5, policy 10'],
    ]);
  });

  it("method settings in AWS's spelling (orders/GET): most specific wins, field by field over */*", async () => {
    awsRestApi();
    const config = await readDeployedConfig(CONNECTION, REST);
    const route = (m: string) => config.routes.find((r) => r.method === m && r.path === '/orders')!;
    expect(route('GET').throttle).toEqual({ value: { rateLimit: 20, burstLimit: 10 }, source: 'GetStage methodSettings orders/GET' });
    // POST sets only its rate: the stage's burst still applies.
    expect(route('POST').throttle).toEqual({
      value: { rateLimit: 5, burstLimit: 50 },
      source: 'GetStage methodSettings orders/POST over */*',
    });
  });

  it("a usage plan's per-method throttle (moto ignores the patch) wins over the plan's for that method only", async () => {
    awsRestApi();
    const config = await readDeployedConfig(CONNECTION, REST);
    expect(config.usagePlans.map((p) => p.name)).toEqual(['gold']); // only plans on this API's stage
    const plan = (m: string) => config.routes.find((r) => r.method === m)!.usagePlans[0]!;
    expect(plan('GET').throttle).toEqual({
      value: { rateLimit: 3, burstLimit: 2 },
      source: 'GetUsagePlans gold apiStages throttle /orders/GET',
    });
    expect(plan('POST').throttle).toEqual({ value: { rateLimit: 15, burstLimit: 8 }, source: 'GetUsagePlans gold throttle' });
    const policy = parse(writePolicy(config)) as { routes: Array<{ method: string; usagePlans: Array<{ rateLimit: number }> }> };
    expect(policy.routes.map((r) => [r.method, r.usagePlans[0]!.rateLimit])).toEqual([
      ['GET', 3],
      ['POST', 15],
    ]);
  });

  it('default gateway responses (moto has none): only those that add CORS headers count', async () => {
    awsRestApi();
    const config = await readDeployedConfig(CONNECTION, REST);
    expect(config.corsOnErrors).toEqual(['DEFAULT_4XX']);
    expect(config.cors?.source).toBe('GetGatewayResponses DEFAULT_4XX');
    expect(writePolicy(config)).toContain('# CORS headers on gateway responses: DEFAULT_4XX.');
  });

  it('a refused read is named (report, policy comment, info finding), never guessed; WAF falls back to GetStage webAclArn', async () => {
    awsRestApi({ webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/orders-acl/1111' });
    gw.on(GetUsagePlansCommand).rejects(awsError('AccessDeniedException', 403, 'User is not authorized to perform apigateway:GET'));
    gw.on(GetAccountCommand).rejects(awsError('NotImplemented', 501, 'not implemented by this endpoint'));
    waf.on(GetWebACLForResourceCommand).rejects(awsError('AccessDeniedException', 403));
    const config = await readDeployedConfig(CONNECTION, REST);
    expect(config.unreadable.map((u) => [u.setting, u.call, u.code])).toEqual([
      ['usage plans', 'GetUsagePlans', 'AccessDenied'],
      ['account throttle', 'GetAccount', 'NotImplemented'],
    ]);
    expect(config.usagePlans).toEqual([]);
    expect(config.accountThrottle).toBeUndefined();
    expect(config.waf).toEqual({
      value: { arn: expect.stringContaining('orders-acl') as string, name: 'orders-acl' },
      source: 'GetStage webAclArn',
    });
    const text = writePolicy(config);
    expect(text).toContain('# NOT READ: usage plans (GetUsagePlans: AccessDenied');
    expect(schemaIssues(parse(text))).toEqual([]);

    // run --drift: the plan's throttle check gets "not read" rows and an info finding, no configured-vs-policy.
    const policy = parsePolicy(
      'version: 1\ncredentials: { gold: { value: k } }\nroutes:\n  - method: GET\n    path: /orders\n' +
        '    usagePlans: [{ name: gold, credential: gold, rateLimit: 15, burstLimit: 8 }]\n',
      'p.yaml',
      { env: {} },
    );
    const drift = driftFor(result('throttle', 'GET /orders', ' [plan gold]'), policy, config)!;
    expect(drift.configured.map((r) => [r.field, r.configured, r.unreadable?.split(':')[0]])).toEqual([
      ['rateLimit', null, 'AccessDenied'],
      ['burstLimit', null, 'AccessDenied'],
    ]);
    expect(drift.findings.map((f) => [f.id, f.severity])).toEqual([['drift:unreadable:usage-plans', 'info']]);
  });

  it('a stage that does not exist stops the read (the caller makes it exit 2)', async () => {
    awsRestApi();
    gw.on(GetStageCommand).rejects(awsError('NotFoundException', 404, 'Invalid stage identifier specified'));
    await expect(readDeployedConfig(CONNECTION, REST)).rejects.toMatchObject({ name: 'AwsReadError', code: 'NotFound' });
  });
});

describe('HTTP API reads moto cannot change (no apigatewayv2 UpdateStage)', () => {
  it('route throttles changed after creation drift from the policy; CORS compared from CorsConfiguration', async () => {
    v2.on(GetApiCommand).resolves({
      ApiId: 'h1',
      Name: 'items',
      ApiEndpoint: 'https://h1.execute-api.eu-west-1.amazonaws.com',
      CorsConfiguration: { AllowOrigins: ['https://app.example.com', 'https://admin.example.com'], AllowMethods: ['GET'] },
    });
    v2.on(GetRoutesCommand).resolves({ Items: [{ RouteKey: 'GET /items', AuthorizationType: 'NONE' }, { RouteKey: '$default' }] });
    // As UpdateStage leaves it in AWS: the route's own settings raised, the default unchanged.
    v2.on(GetStageV2Command).resolves({
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 30, ThrottlingBurstLimit: 15 },
      RouteSettings: { 'GET /items': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 25 } },
    });
    const config = await readDeployedConfig(CONNECTION, { type: 'HTTP', id: 'h1', stage: '$default' });
    expect(config.api.invokeUrl).toBe('https://h1.execute-api.eu-west-1.amazonaws.com');
    expect(config.routes.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /items']); // $default matches anything: not a route to check
    const policy = parsePolicy(
      'version: 1\nvendor: aws-http\nroutes:\n  - method: GET\n    path: /items\n    throttle: { rateLimit: 12, burstLimit: 6 }\n' +
        '    cors: { allowOrigins: [https://app.example.com], allowMethods: [GET] }\n',
      'p.yaml',
      { env: {} },
    );
    const throttle = driftFor(result('throttle', 'GET /items'), policy, config)!;
    expect(throttle.findings.map((f) => [f.id, f.severity])).toEqual([
      ['drift:configured-vs-policy:rateLimit', 'high'],
      ['drift:configured-vs-policy:burstLimit', 'high'],
    ]);
    expect(throttle.configured[0]).toMatchObject({ policy: 12, configured: 50, source: 'GetStage RouteSettings GET /items' });
    const cors = driftFor(result('cors', 'GET /items'), policy, config)!;
    expect(cors.findings.map((f) => [f.id, f.severity])).toEqual([['drift:configured-vs-policy:allowOrigins', 'medium']]);
  });
});

function result(kind: string, route: string, idSuffix = ''): CheckResult {
  return {
    id: `${kind}:${route}${idSuffix}`,
    kind: kind as CheckResult['kind'],
    route,
    status: 'pass',
    summary: '',
    expected: {},
    observed: {},
    evidence: [],
    findings: [],
    durationMs: 0,
    requestsSent: 0,
  };
}

describe('AWS errors as data', () => {
  it.each([
    [awsError('AccessDeniedException', 403), 'AccessDenied'],
    [awsError('NotFoundException', 404), 'NotFound'],
    [awsError('UnknownOperationException', 400), 'NotImplemented'],
    [awsError('InternalFailure', 501), 'NotImplemented'],
    [Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: 500 } }), 'NotImplemented'],
    [awsError('InternalServerError', 500), 'Error'],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'NoCredentials'],
  ])('%s → %s', (error, code) => expect(classifyAwsError(error).code).toBe(code));
});
