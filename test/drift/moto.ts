/**
 * moto 5 (`python3 -m moto.server`) on a free loopback port, and seeding it through the AWS SDK
 * the way a deployment would configure API Gateway: a REST API with keyed methods, stage and
 * per-method throttles (UpdateStage patch operations, the `~1` spelling), a usage plan with a key,
 * throttle and quota, a CORS preflight and gateway response, a WAF association; and an HTTP API
 * with CORS, a JWT authorizer and route throttles.
 */
export { motoProblem, motoVersion, startMoto, type Moto } from '../support/moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const REGION = 'us-east-1';
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-not-real' };

/** The limits a seeded REST API is configured with; tests seed two different sets. */
export interface RestSeed {
  stageRate: number;
  stageBurst: number;
  /** Per-method throttle of GET /orders. */
  ordersRate: number;
  ordersBurst: number;
  planRate: number;
  planBurst: number;
  quotaLimit: number;
  /** POST /orders requires an API key (GET /orders always does). */
  postKeyed: boolean;
  origin: string;
  waf: boolean;
  /** The stage's X-Ray tracing (tracingEnabled). */
  tracing: boolean;
}

export const DEFAULT_SEED: RestSeed = {
  stageRate: 100,
  stageBurst: 50,
  ordersRate: 20,
  ordersBurst: 10,
  planRate: 15,
  planBurst: 8,
  quotaLimit: 1000,
  postKeyed: true,
  origin: 'https://app.example.com',
  waf: true,
  tracing: true,
};

/** Seeds a REST API (resources /orders, /health and /admin, IAM-authorized, stage `prod`) and returns its id. */
export async function seedRestApi(endpoint: string, seed: RestSeed = DEFAULT_SEED, stageName = 'prod'): Promise<string> {
  const gw = await import('@aws-sdk/client-api-gateway');
  const client = new gw.APIGatewayClient({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
  const api = await client.send(new gw.CreateRestApiCommand({ name: 'orders-api' }));
  const restApiId = api.id!;
  const root = (await client.send(new gw.GetResourcesCommand({ restApiId }))).items!.find((r) => r.path === '/')!;
  const orders = await client.send(new gw.CreateResourceCommand({ restApiId, parentId: root.id!, pathPart: 'orders' }));
  const health = await client.send(new gw.CreateResourceCommand({ restApiId, parentId: root.id!, pathPart: 'health' }));
  const admin = await client.send(new gw.CreateResourceCommand({ restApiId, parentId: root.id!, pathPart: 'admin' }));
  const method = async (resourceId: string, httpMethod: string, apiKeyRequired: boolean, authorizationType = 'NONE') => {
    await client.send(new gw.PutMethodCommand({ restApiId, resourceId, httpMethod, authorizationType, apiKeyRequired }));
    await client.send(new gw.PutIntegrationCommand({ restApiId, resourceId, httpMethod, type: 'MOCK' }));
  };
  await method(orders.id!, 'GET', true);
  await method(orders.id!, 'POST', seed.postKeyed);
  await method(health.id!, 'GET', false);
  await method(admin.id!, 'GET', false, 'AWS_IAM');
  // A mock preflight with static CORS headers, as the console's "Enable CORS" makes it.
  await method(orders.id!, 'OPTIONS', false);
  await client.send(
    new gw.PutMethodResponseCommand({
      restApiId,
      resourceId: orders.id!,
      httpMethod: 'OPTIONS',
      statusCode: '200',
      responseParameters: {
        'method.response.header.Access-Control-Allow-Origin': false,
        'method.response.header.Access-Control-Allow-Methods': false,
        'method.response.header.Access-Control-Allow-Headers': false,
      },
    }),
  );
  await client.send(
    new gw.PutIntegrationResponseCommand({
      restApiId,
      resourceId: orders.id!,
      httpMethod: 'OPTIONS',
      statusCode: '200',
      responseParameters: {
        'method.response.header.Access-Control-Allow-Origin': `'${seed.origin}'`,
        'method.response.header.Access-Control-Allow-Methods': "'GET,POST,OPTIONS'",
        'method.response.header.Access-Control-Allow-Headers': "'content-type,x-api-key'",
      },
    }),
  );
  await client.send(
    new gw.PutGatewayResponseCommand({
      restApiId,
      responseType: 'DEFAULT_4XX',
      responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': `'${seed.origin}'` },
    }),
  );
  await client.send(new gw.CreateDeploymentCommand({ restApiId, stageName }));
  const patch = (path: string, value: number | string) => ({ op: 'replace' as const, path, value: String(value) });
  await client.send(
    new gw.UpdateStageCommand({
      restApiId,
      stageName,
      patchOperations: [
        patch('/*/*/throttling/rateLimit', seed.stageRate),
        patch('/*/*/throttling/burstLimit', seed.stageBurst),
        // The documented spelling of a per-method setting's patch path: `/` in the resource path escaped as ~1.
        patch('/~1orders/GET/throttling/rateLimit', seed.ordersRate),
        patch('/~1orders/GET/throttling/burstLimit', seed.ordersBurst),
        patch('/tracingEnabled', String(seed.tracing)),
      ],
    }),
  );
  const plan = await client.send(
    new gw.CreateUsagePlanCommand({
      name: 'gold',
      apiStages: [{ apiId: restApiId, stage: stageName }],
      throttle: { rateLimit: seed.planRate, burstLimit: seed.planBurst },
      quota: { limit: seed.quotaLimit, period: 'DAY' },
    }),
  );
  const key = await client.send(new gw.CreateApiKeyCommand({ name: 'gold-key', enabled: true, value: 'gold-key-value-never-in-a-policy' }));
  await client.send(new gw.CreateUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id!, keyType: 'API_KEY' }));
  client.destroy();
  if (seed.waf) await associateWebAcl(endpoint, `arn:aws:apigateway:${REGION}::/restapis/${restApiId}/stages/${stageName}`);
  return restApiId;
}

async function associateWebAcl(endpoint: string, resourceArn: string): Promise<void> {
  const waf = await import('@aws-sdk/client-wafv2');
  const client = new waf.WAFV2Client({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
  const acl = await client.send(
    new waf.CreateWebACLCommand({
      Name: 'orders-acl',
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { SampledRequestsEnabled: false, CloudWatchMetricsEnabled: false, MetricName: 'orders-acl' },
      Rules: [],
    }),
  );
  await client.send(new waf.AssociateWebACLCommand({ WebACLArn: acl.Summary!.ARN!, ResourceArn: resourceArn }));
  client.destroy();
}

/** Seeds an HTTP API with CORS, a JWT authorizer on POST /items and throttles; returns its id. */
export async function seedHttpApi(endpoint: string): Promise<string> {
  const v2 = await import('@aws-sdk/client-apigatewayv2');
  const client = new v2.ApiGatewayV2Client({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
  const api = await client.send(
    new v2.CreateApiCommand({
      Name: 'items-http',
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com'],
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['content-type', 'authorization'],
        MaxAge: 600,
      },
    }),
  );
  const ApiId = api.ApiId!;
  const authorizer = await client.send(
    new v2.CreateAuthorizerCommand({
      ApiId,
      Name: 'cognito-jwt',
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['items'] },
    }),
  );
  await client.send(new v2.CreateRouteCommand({ ApiId, RouteKey: 'GET /items' }));
  await client.send(
    new v2.CreateRouteCommand({ ApiId, RouteKey: 'POST /items', AuthorizationType: 'JWT', AuthorizerId: authorizer.AuthorizerId! }),
  );
  await client.send(
    new v2.CreateStageCommand({
      ApiId,
      StageName: 'prod',
      DefaultRouteSettings: { ThrottlingRateLimit: 30, ThrottlingBurstLimit: 15 },
      RouteSettings: { 'GET /items': { ThrottlingRateLimit: 12, ThrottlingBurstLimit: 6 } },
    }),
  );
  client.destroy();
  return ApiId;
}
