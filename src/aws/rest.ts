import type { Method, Resource, Stage, UsagePlan } from '@aws-sdk/client-api-gateway';
import type { DeployedConfig, DeployedCors, DeployedRoute, DeployedThrottle, DeployedUsagePlan, Sourced, Unreadable } from './deployed.js';
import { restInvokeUrl } from './deployed.js';
import { optionalRead, requiredRead } from './errors.js';
import { clientOptions, type AwsConnection } from './connection.js';
import { planMethodThrottle, throttleFor, type MethodSetting } from './method-settings.js';
import { readWebAcl } from './waf.js';

/**
 * Reads a REST API stage with @aws-sdk/client-api-gateway: GetRestApi and GetStage (required:
 * without them there is nothing to describe), then GetResources (methods embedded),
 * GetAuthorizers, GetUsagePlans, GetGatewayResponses, GetAccount and the WAF association
 * (optional: each failure is named in `unreadable`).
 */
export async function readRestApi(connection: AwsConnection, id: string, stageName: string): Promise<DeployedConfig> {
  const sdk = await import('@aws-sdk/client-api-gateway');
  const client = new sdk.APIGatewayClient(clientOptions(connection));
  const unreadable: Unreadable[] = [];
  try {
    const region = await requiredRead('Region', 'the SDK configuration', () => client.config.region());
    const api = await requiredRead('GetRestApi', `REST API ${id}`, () => client.send(new sdk.GetRestApiCommand({ restApiId: id })));
    const stage = await requiredRead('GetStage', `stage ${stageName} of ${id}`, () =>
      client.send(new sdk.GetStageCommand({ restApiId: id, stageName })),
    );
    const resources = await requiredRead('GetResources', `resources of ${id}`, () => allResources(client, sdk, id));
    const authorizers =
      (await optionalRead(unreadable, 'authorizer names', 'GetAuthorizers', async () => {
        const out = await client.send(new sdk.GetAuthorizersCommand({ restApiId: id, limit: 500 }));
        return new Map((out.items ?? []).map((a) => [a.id ?? '', { name: a.name ?? a.id ?? '', type: a.type ?? 'CUSTOM' }]));
      })) ?? new Map<string, { name: string; type: string }>();
    const plans = await optionalRead(unreadable, 'usage plans', 'GetUsagePlans', () => stagePlans(client, sdk, id, stageName));
    const responses = await optionalRead(unreadable, 'gateway responses (CORS on errors)', 'GetGatewayResponses', async () => {
      const out = await client.send(new sdk.GetGatewayResponsesCommand({ restApiId: id, limit: 500 }));
      return out.items ?? [];
    });
    const account = await optionalRead(unreadable, 'account throttle', 'GetAccount', () => client.send(new sdk.GetAccountCommand({})));
    const stageArn = `arn:${partition(region)}:apigateway:${region}::/restapis/${id}/stages/${stageName}`;
    const waf = await readWebAcl(connection, region, stageArn, stage.webAclArn, unreadable);

    const settings: Record<string, MethodSetting> | undefined = stage.methodSettings;
    const routes = resources.flatMap((resource) =>
      Object.values(resource.resourceMethods ?? {})
        .filter((m) => m.httpMethod !== undefined && m.httpMethod !== 'OPTIONS')
        .map((m) => restRoute(resource.path ?? '/', m, settings, plans ?? [], authorizers)),
    );
    const preflightPaths = resources.filter((r) => r.resourceMethods?.OPTIONS !== undefined).map((r) => r.path ?? '/');
    const corsOnErrors = (responses ?? [])
      .filter((r) => headerValue(r.responseParameters, 'gatewayresponse.header.', 'Access-Control-Allow-Origin') !== undefined)
      .map((r) => r.responseType ?? '?');
    const throttle = account?.throttleSettings;
    return {
      api: {
        type: 'REST',
        id,
        ...(api.name ? { name: api.name } : {}),
        stage: stageName,
        region,
        invokeUrl: restInvokeUrl(id, region, stageName),
      },
      routes: routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method)),
      usagePlans: plans ?? [],
      ...corsHints(resources, responses ?? []),
      preflightPaths,
      corsOnErrors,
      ...(waf !== undefined ? { waf } : {}),
      tracing: { value: stage.tracingEnabled === true, source: 'GetStage tracingEnabled' },
      canary: { value: canaryOf(stage), source: 'GetStage canarySettings' },
      ...(throttle?.rateLimit !== undefined && throttle.burstLimit !== undefined
        ? {
            accountThrottle: {
              value: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
              source: 'GetAccount throttleSettings',
            },
          }
        : {}),
      unreadable,
    };
  } finally {
    client.destroy();
  }
}

/** The ARN partition of a Region: China and GovCloud have their own. */
function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

type Sdk = typeof import('@aws-sdk/client-api-gateway');
type Client = InstanceType<Sdk['APIGatewayClient']>;

async function allResources(client: Client, sdk: Sdk, restApiId: string): Promise<Resource[]> {
  const items: Resource[] = [];
  let position: string | undefined;
  do {
    const out = await client.send(
      new sdk.GetResourcesCommand({ restApiId, embed: ['methods'], limit: 500, ...(position ? { position } : {}) }),
    );
    items.push(...(out.items ?? []));
    position = out.position;
  } while (position);
  return items;
}

/** The usage plans attached to this API's stage, with their per-method throttles for it. */
async function stagePlans(client: Client, sdk: Sdk, restApiId: string, stage: string): Promise<DeployedUsagePlan[]> {
  const plans: UsagePlan[] = [];
  let position: string | undefined;
  do {
    const out = await client.send(new sdk.GetUsagePlansCommand({ limit: 500, ...(position ? { position } : {}) }));
    plans.push(...(out.items ?? []));
    position = out.position;
  } while (position);
  return plans.flatMap((plan) => {
    const apiStage = plan.apiStages?.find((s) => s.apiId === restApiId && s.stage === stage);
    if (!apiStage) return [];
    const methodThrottles: Record<string, DeployedThrottle> = {};
    for (const [key, t] of Object.entries(apiStage.throttle ?? {}))
      if (t.rateLimit !== undefined && t.burstLimit !== undefined)
        methodThrottles[key] = { rateLimit: t.rateLimit, burstLimit: t.burstLimit };
    const t = plan.throttle;
    const q = plan.quota;
    return [
      {
        id: plan.id ?? '',
        name: plan.name ?? plan.id ?? '',
        ...(t?.rateLimit !== undefined && t.burstLimit !== undefined
          ? { throttle: { rateLimit: t.rateLimit, burstLimit: t.burstLimit } }
          : {}),
        ...(q?.limit !== undefined && q.period !== undefined
          ? { quota: { limit: q.limit, period: q.period, ...(q.offset ? { offset: q.offset } : {}) } }
          : {}),
        methodThrottles,
      },
    ];
  });
}

function restRoute(
  path: string,
  method: Method,
  settings: Record<string, MethodSetting> | undefined,
  plans: DeployedUsagePlan[],
  authorizers: Map<string, { name: string; type: string }>,
): DeployedRoute {
  const httpMethod = method.httpMethod!.toUpperCase();
  const where = `GetResources ${path} ${httpMethod}`;
  const authorizationType = method.authorizationType ?? 'NONE';
  const apiKeyRequired = method.apiKeyRequired === true;
  const authorizer = method.authorizerId !== undefined ? authorizers.get(method.authorizerId) : undefined;
  const throttle = throttleFor(settings, path, httpMethod);
  return {
    method: httpMethod,
    path,
    ...(throttle ? { throttle } : {}),
    auth: {
      value: {
        required: apiKeyRequired || authorizationType !== 'NONE',
        apiKeyRequired,
        authorizationType,
        ...(authorizer ? { authorizer } : {}),
      },
      source: `${where} apiKeyRequired/authorizationType`,
    },
    // A method that does not require a key ignores every plan's limits (REFERENCE: API Gateway behaviour).
    usagePlans: apiKeyRequired ? plans.map((plan) => routePlan(plan, path, httpMethod)) : [],
  };
}

function routePlan(plan: DeployedUsagePlan, path: string, method: string): DeployedRoute['usagePlans'][number] {
  const own = planMethodThrottle(plan.methodThrottles, path, method);
  const throttle: Sourced<DeployedThrottle> | undefined = own
    ? { value: own.throttle, source: `GetUsagePlans ${plan.name} apiStages throttle ${own.key}` }
    : plan.throttle
      ? { value: plan.throttle, source: `GetUsagePlans ${plan.name} throttle` }
      : undefined;
  return {
    planId: plan.id,
    name: plan.name,
    ...(throttle ? { throttle } : {}),
    ...(plan.quota ? { quota: { value: plan.quota, source: `GetUsagePlans ${plan.name} quota` } } : {}),
  };
}

/** A header's value from API Gateway's responseParameters: `'https://a.example'` (a static value in quotes). */
export function headerValue(params: Record<string, string> | undefined, prefix: string, header: string): string | undefined {
  if (!params) return undefined;
  const key = Object.keys(params).find((k) => k.toLowerCase() === `${prefix}${header}`.toLowerCase());
  if (key === undefined) return undefined;
  return params[key]!.trim().replace(/^'(.*)'$/, '$1');
}

const list = (value: string | undefined): string[] =>
  value === undefined
    ? []
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);

/**
 * CORS as a REST API configures it: the static Access-Control-* headers of an OPTIONS method's
 * integration response (a mock preflight), else of a gateway response. Hints only: a Lambda
 * integration can answer preflights with anything.
 */
function corsHints(
  resources: Resource[],
  responses: Array<{ responseType?: string; responseParameters?: Record<string, string> }>,
): { cors?: Sourced<DeployedCors> } {
  const fromParams = (params: Record<string, string> | undefined, prefix: string): DeployedCors | undefined => {
    const origin = headerValue(params, prefix, 'Access-Control-Allow-Origin');
    if (origin === undefined) return undefined;
    const maxAge = headerValue(params, prefix, 'Access-Control-Max-Age');
    const credentials = headerValue(params, prefix, 'Access-Control-Allow-Credentials');
    return {
      allowOrigins: list(origin),
      allowMethods: list(headerValue(params, prefix, 'Access-Control-Allow-Methods')),
      allowHeaders: list(headerValue(params, prefix, 'Access-Control-Allow-Headers')),
      exposeHeaders: list(headerValue(params, prefix, 'Access-Control-Expose-Headers')),
      ...(credentials !== undefined ? { allowCredentials: credentials.toLowerCase() === 'true' } : {}),
      ...(maxAge !== undefined && /^\d+$/.test(maxAge) ? { maxAge: Number(maxAge) } : {}),
    };
  };
  for (const resource of resources) {
    const options = resource.resourceMethods?.OPTIONS;
    for (const [status, response] of Object.entries(options?.methodIntegration?.integrationResponses ?? {})) {
      const cors = fromParams(response.responseParameters, 'method.response.header.');
      if (cors) return { cors: { value: cors, source: `GetResources ${resource.path} OPTIONS integration response ${status}` } };
    }
  }
  for (const response of responses) {
    const cors = fromParams(response.responseParameters, 'gatewayresponse.header.');
    if (cors) return { cors: { value: cors, source: `GetGatewayResponses ${response.responseType}` } };
  }
  return {};
}

function canaryOf(stage: Stage): NonNullable<DeployedConfig['canary']>['value'] {
  const c = stage.canarySettings;
  if (!c) return null;
  return {
    ...(c.percentTraffic !== undefined ? { percentTraffic: c.percentTraffic } : {}),
    ...(c.deploymentId !== undefined ? { deploymentId: c.deploymentId } : {}),
    ...(c.useStageCache !== undefined ? { useStageCache: c.useStageCache } : {}),
  };
}
