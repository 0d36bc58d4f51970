import type { Authorizer, Route } from '@aws-sdk/client-apigatewayv2';
import type { DeployedAuth, DeployedConfig, DeployedRoute, DeployedThrottle, Sourced, Unreadable } from './deployed.js';
import { optionalRead, requiredRead } from './errors.js';
import { clientOptions, type AwsConnection } from './connection.js';

/**
 * Reads an HTTP API stage with @aws-sdk/client-apigatewayv2: GetApi (CorsConfiguration, the
 * endpoint) and GetStage (DefaultRouteSettings and RouteSettings throttles) are required,
 * GetRoutes too; GetAuthorizer for each authorizer a route uses (JWT issuer and audience) is optional. HTTP APIs have no usage
 * plans, no canary and no WAF association.
 */
export async function readHttpApi(connection: AwsConnection, id: string, stageName: string): Promise<DeployedConfig> {
  const sdk = await import('@aws-sdk/client-apigatewayv2');
  const client = new sdk.ApiGatewayV2Client(clientOptions(connection));
  const unreadable: Unreadable[] = [];
  try {
    const region = await requiredRead('Region', 'the SDK configuration', () => client.config.region());
    const api = await requiredRead('GetApi', `HTTP API ${id}`, () => client.send(new sdk.GetApiCommand({ ApiId: id })));
    const stage = await requiredRead('GetStage', `stage ${stageName} of ${id}`, () =>
      client.send(new sdk.GetStageCommand({ ApiId: id, StageName: stageName })),
    );
    const routes: Route[] = await requiredRead('GetRoutes', `routes of ${id}`, async () => {
      const items: Route[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(new sdk.GetRoutesCommand({ ApiId: id, MaxResults: '500', ...(token ? { NextToken: token } : {}) }));
        items.push(...(out.Items ?? []));
        token = out.NextToken;
      } while (token);
      return items;
    });
    // GetAuthorizer per authorizer the routes use (moto 5.2.1 has no GetAuthorizers list, and only these matter).
    const authorizers = new Map<string, Partial<Authorizer>>();
    for (const authorizerId of new Set(routes.flatMap((r) => (r.AuthorizerId ? [r.AuthorizerId] : [])))) {
      const a = await optionalRead(unreadable, `authorizer ${authorizerId}`, 'GetAuthorizer', () =>
        client.send(new sdk.GetAuthorizerCommand({ ApiId: id, AuthorizerId: authorizerId })),
      );
      if (a) authorizers.set(authorizerId, a);
    }
    const stageDefault = throttleOf(stage.DefaultRouteSettings, 'GetStage DefaultRouteSettings');
    const deployed: DeployedRoute[] = routes.flatMap((route) => {
      const key = route.RouteKey ?? '';
      const match = /^([A-Z]+) (\/\S*)$/.exec(key);
      // $default and ANY routes match every request: there is no one method and path to check.
      if (!match || match[1] === 'ANY') return [];
      const throttle = throttleOf(stage.RouteSettings?.[key], `GetStage RouteSettings ${key}`, stageDefault);
      const authorizationType = route.AuthorizationType ?? 'NONE';
      const a = route.AuthorizerId !== undefined ? authorizers.get(route.AuthorizerId) : undefined;
      const authorizer: DeployedAuth['authorizer'] = a
        ? {
            name: a.Name ?? a.AuthorizerId ?? '',
            type: a.AuthorizerType ?? authorizationType,
            ...(a.JwtConfiguration?.Issuer ? { issuer: a.JwtConfiguration.Issuer } : {}),
            ...(a.JwtConfiguration?.Audience ? { audience: a.JwtConfiguration.Audience } : {}),
            ...(a.IdentitySource ? { identitySource: a.IdentitySource } : {}),
          }
        : undefined;
      const auth: Sourced<DeployedAuth> = {
        value: {
          required: authorizationType !== 'NONE' || route.ApiKeyRequired === true,
          apiKeyRequired: route.ApiKeyRequired === true,
          authorizationType,
          ...(authorizer ? { authorizer } : {}),
        },
        source: `GetRoutes ${key} AuthorizationType`,
      };
      return [{ method: match[1]!, path: match[2]!, ...(throttle ? { throttle } : {}), auth, usagePlans: [] }];
    });
    const c = api.CorsConfiguration;
    const endpoint = api.ApiEndpoint ?? `https://${id}.execute-api.${region}.amazonaws.com`;
    return {
      api: {
        type: 'HTTP',
        id,
        ...(api.Name ? { name: api.Name } : {}),
        stage: stageName,
        region,
        invokeUrl: stageName === '$default' ? endpoint : `${endpoint}/${encodeURIComponent(stageName)}`,
      },
      routes: deployed.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method)),
      usagePlans: [],
      ...(c
        ? {
            cors: {
              value: {
                allowOrigins: c.AllowOrigins ?? [],
                allowMethods: c.AllowMethods ?? [],
                allowHeaders: c.AllowHeaders ?? [],
                exposeHeaders: c.ExposeHeaders ?? [],
                ...(c.AllowCredentials !== undefined ? { allowCredentials: c.AllowCredentials } : {}),
                ...(c.MaxAge !== undefined ? { maxAge: c.MaxAge } : {}),
              },
              source: 'GetApi CorsConfiguration',
            },
          }
        : {}),
      preflightPaths: [],
      corsOnErrors: [],
      unreadable,
    };
  } finally {
    client.destroy();
  }
}

/** A route's throttle: its own RouteSettings field by field over the stage's DefaultRouteSettings. */
function throttleOf(
  settings: { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number } | undefined,
  source: string,
  fallback?: Sourced<DeployedThrottle>,
): Sourced<DeployedThrottle> | undefined {
  if (settings?.ThrottlingRateLimit === undefined && settings?.ThrottlingBurstLimit === undefined) return fallback;
  const rate = settings?.ThrottlingRateLimit ?? fallback?.value.rateLimit;
  const burst = settings?.ThrottlingBurstLimit ?? fallback?.value.burstLimit;
  if (rate === undefined || burst === undefined) return undefined;
  const own = settings?.ThrottlingRateLimit !== undefined && settings.ThrottlingBurstLimit !== undefined;
  return { value: { rateLimit: rate, burstLimit: burst }, source: own || !fallback ? source : `${source} over ${fallback.source}` };
}
