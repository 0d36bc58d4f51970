/**
 * What AWS is configured to enforce for one API stage, as read through the SDK (src/aws/read.ts).
 * The third side beside the policy (what we meant) and the observations (what the gateway did).
 * Every value carries the call it came from (`source`), so the policy writer can say where a
 * number came from and a drift finding can name the AWS setting. A setting that could not be
 * read is listed in `unreadable` with the reason, and absent here: never guessed.
 */

export type ApiKind = 'REST' | 'HTTP';

/** A value and the API call (and key) it was read from: `GetStage methodSettings ~1orders/GET`. */
export interface Sourced<T> {
  value: T;
  source: string;
}

/** A token bucket as API Gateway states it: refill per second and bucket size. */
export interface DeployedThrottle {
  rateLimit: number;
  burstLimit: number;
}

export interface DeployedQuota {
  limit: number;
  period: 'DAY' | 'WEEK' | 'MONTH';
  offset?: number;
}

export interface DeployedAuth {
  /** Something must be presented: an API key, an authorizer or IAM. */
  required: boolean;
  apiKeyRequired: boolean;
  /** REST: NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS; HTTP: NONE, AWS_IAM, CUSTOM, JWT. */
  authorizationType: string;
  /** The authorizer's name and, for JWT, its issuer and audience. */
  authorizer?: { name: string; type: string; issuer?: string; audience?: string[]; identitySource?: string[] };
}

/** A usage plan's limits as they apply to one route (its per-method throttle when it has one). */
export interface RouteUsagePlan {
  planId: string;
  name: string;
  throttle?: Sourced<DeployedThrottle>;
  quota?: Sourced<DeployedQuota>;
}

export interface DeployedRoute {
  method: string;
  /** Resource path (REST) or the route key's path (HTTP), e.g. `/orders/{id}`. */
  path: string;
  /** The throttle that applies to the route: the most specific method setting, else the stage's. */
  throttle?: Sourced<DeployedThrottle>;
  auth?: Sourced<DeployedAuth>;
  /** Plans on this stage whose keys this route checks (REST, apiKeyRequired only: otherwise no plan applies). */
  usagePlans: RouteUsagePlan[];
}

export interface DeployedCors {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials?: boolean;
  maxAge?: number;
}

export interface DeployedUsagePlan {
  id: string;
  name: string;
  throttle?: DeployedThrottle;
  quota?: DeployedQuota;
  /** Per-method throttles inside the plan, keyed `<path>/<METHOD>` as AWS writes them. */
  methodThrottles: Record<string, DeployedThrottle>;
}

export interface Unreadable {
  /** What could not be read, in gatecheck's words: `usage plans`, `WAF association`. */
  setting: string;
  /** The API call that failed. */
  call: string;
  code: 'AccessDenied' | 'NotImplemented' | 'NotFound' | 'Error';
  reason: string;
}

export interface DeployedConfig {
  api: { type: ApiKind; id: string; name?: string; stage: string; region: string; invokeUrl: string };
  routes: DeployedRoute[];
  usagePlans: DeployedUsagePlan[];
  /** HTTP: CorsConfiguration. REST: hints from the gateway responses' and OPTIONS methods' headers. */
  cors?: Sourced<DeployedCors>;
  /** REST: paths with an OPTIONS method (preflights are answered there). */
  preflightPaths: string[];
  /** REST: gateway responses (DEFAULT_4XX, DEFAULT_5XX, …) that add Access-Control-Allow-Origin. */
  corsOnErrors: string[];
  /** The web ACL associated with the stage; value null: read, and none is associated. */
  waf?: Sourced<{ arn: string; name: string } | null>;
  tracing?: Sourced<boolean>;
  /** REST canary; value null: read, and the stage has none. */
  canary?: Sourced<{ percentTraffic?: number; deploymentId?: string; useStageCache?: boolean } | null>;
  /** The account's Region-wide throttle: a ceiling over every stage. */
  accountThrottle?: Sourced<DeployedThrottle>;
  unreadable: Unreadable[];
}

/** The invoke URL API Gateway gives a stage: https://{id}.execute-api.{region}.amazonaws.com/{stage}. */
export function restInvokeUrl(id: string, region: string, stage: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${id}.execute-api.${region}.${suffix}/${encodeURIComponent(stage)}`;
}
