/**
 * The policy as gatecheck uses it after loading: validated against policies/schema.json,
 * environment variables substituted, defaults applied. The field names mirror the schema
 * (a public interface: rename nothing here without the schema).
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
export type Vendor = 'aws-rest' | 'aws-http' | 'plain';

export interface Credential {
  name: string;
  /** Lower-cased header name, e.g. `x-api-key` or `authorization`. */
  header: string;
  /** Optional scheme written before the value (`Bearer`). */
  scheme?: string;
  /** The secret. Never written to a report or a log: see util/redact.ts. */
  value: string;
}

export interface AuthPolicy {
  required: boolean;
  credential?: string;
  refuseStatus: number[];
}

export interface ThrottlePolicy {
  rateLimit: number;
  burstLimit: number;
  tolerance: number;
  credential?: string;
  probeSeconds: number;
}

export interface CorsPolicy {
  allowOrigins: string[];
  allowMethods: HttpMethod[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

export interface WafPolicy {
  blockStatus: number[];
  minBlockRate: number;
}

export interface SloPolicy {
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxErrorRate?: number;
  ratePerSec?: number;
  durationSec: number;
}

export interface RoutePolicy {
  /** Stable id used in check ids, e.g. `GET /api/items`. */
  id: string;
  /** Position in the policy file, for messages (`routes[2]`). */
  index: number;
  name: string;
  method: HttpMethod;
  path: string;
  /** Statuses of the backend's normal answer; undefined means any 2xx. */
  okStatus?: number[];
  auth?: AuthPolicy;
  throttle?: ThrottlePolicy;
  cors?: CorsPolicy;
  waf?: WafPolicy;
  slo?: SloPolicy;
}

export interface RunLimits {
  maxRequests: number;
  maxDurationSec: number;
  requestTimeoutMs: number;
}

export interface Policy {
  version: 1;
  /** Base URL without a trailing slash; undefined when the file has none and no --target was given. */
  target?: string;
  vendor: Vendor;
  limits: RunLimits;
  credentials: Record<string, Credential>;
  routes: RoutePolicy[];
}

export const DEFAULT_LIMITS: RunLimits = { maxRequests: 20_000, maxDurationSec: 300, requestTimeoutMs: 5_000 };
export const DEFAULT_REFUSE_STATUS = [401, 403];
export const DEFAULT_THROTTLE_TOLERANCE = 0.1;

/** The credential a route's non-auth probes carry, if the route requires one. */
export function routeCredential(policy: Policy, route: RoutePolicy): Credential | undefined {
  const name = route.auth?.required ? route.auth.credential : undefined;
  return name === undefined ? undefined : policy.credentials[name];
}

/** True when `status` is the backend's normal answer for this route. */
export function isOkStatus(route: RoutePolicy, status: number): boolean {
  return route.okStatus ? route.okStatus.includes(status) : status >= 200 && status < 300;
}
