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
  /** `jwt`: the value is a JSON Web Token, and the auth check forges variants of it. Undefined: `opaque`. */
  kind?: CredentialKind;
  /** kind jwt: a token from the same issuer whose `exp` has passed (secret too: redacted like `value`). */
  expiredValue?: string;
  /** kind sigv4: the IAM keys and scope requests are signed with (header `authorization`, value the secret key). */
  sigv4?: SigV4Settings;
}

export type CredentialKind = 'opaque' | 'jwt' | 'sigv4';

/** An IAM (SigV4) credential: every value but region and service is a secret, redacted like `value`. */
export interface SigV4Settings {
  region: string;
  /** Signing service name; API Gateway's is `execute-api`. */
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const DEFAULT_SIGV4_SERVICE = 'execute-api';

export interface AuthPolicy {
  required: boolean;
  credential?: string;
  refuseStatus: number[];
}

/** The limiter families the throttle check identifies (src/checks/throttle/identify). */
export const THROTTLE_ALGORITHMS = ['token-bucket', 'fixed-window', 'sliding-window', 'leaky-bucket-delay', 'timer-refill'] as const;
export type ThrottleAlgorithm = (typeof THROTTLE_ALGORITHMS)[number];
/** What a gateway answers when its throttle refuses, unless the policy says otherwise. */
export const DEFAULT_THROTTLE_STATUS: readonly number[] = [429];

export interface ThrottlePolicy {
  rateLimit: number;
  burstLimit: number;
  tolerance: number;
  credential?: string;
  probeSeconds: number;
  /** Statuses that mean "throttled" on this route (default [429]; nginx limit_req's default is 503). */
  status: number[];
  /** When the user knows it: the limiter's family, a hint for the probe and the identification. */
  algorithm?: ThrottleAlgorithm;
  /** When the user knows it: a window limiter's window (s). */
  windowSec?: number;
  /** Longest hold (ms) a delaying limiter may add before it is a finding (default 0: any hold is reported). */
  allowDelayMs?: number;
}

/** The statuses that mean "throttled" on a route: its throttle's list, else 429. */
export function throttleStatuses(route: { throttle?: { status?: readonly number[] } | undefined }): readonly number[] {
  return route.throttle?.status ?? DEFAULT_THROTTLE_STATUS;
}

export interface CorsPolicy {
  allowOrigins: string[];
  allowMethods: HttpMethod[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

/** Attack families of the WAF corpus (src/checks/waf/attacks.ts). */
export const WAF_CATEGORIES = ['sqli', 'xss', 'traversal', 'cmdi', 'ssti', 'log4shell', 'xxe', 'ssrf', 'nosqli'] as const;
export type WafCategory = (typeof WAF_CATEGORIES)[number];
/** Where a payload travels. `json` and `form` are request bodies: only for POST, PUT and PATCH routes. */
export const WAF_PLACEMENTS = ['query', 'path', 'header', 'cookie', 'json', 'form'] as const;
export type WafPlacement = (typeof WAF_PLACEMENTS)[number];
export const WAF_BODY_PLACEMENTS: readonly WafPlacement[] = ['json', 'form'];
/** Methods whose requests carry the body placements. */
export const BODY_METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH'];
/** How a payload is written inside its placement (src/checks/waf/encodings.ts says where each applies). */
export const WAF_ENCODINGS = ['plain', 'url', 'double-url', 'base64', 'unicode'] as const;
export type WafEncoding = (typeof WAF_ENCODINGS)[number];
/** base64 is opt-in: no rule set decodes it unless told the field is base64 (see the schema). */
export const DEFAULT_WAF_ENCODINGS: readonly WafEncoding[] = ['plain', 'url', 'double-url', 'unicode'];
export interface WafPolicy {
  blockStatus: number[];
  /**
   * Share of attacks that must be blocked in every category of `categories` (so overall too).
   * Only when the policy writes it: a breach is then an explicit finding, gating at any level.
   * Unset, the baseline corpus gates and the rest is graded (docs/security-checks.md).
   */
  minBlockRate?: number;
  /** Largest share of benign requests that may be blocked; only when the policy writes it (explicit, like minBlockRate). */
  maxFalsePositiveRate?: number;
  categories: WafCategory[];
  /** Resolved: the policy's list, or every placement the route's method allows. */
  placements: WafPlacement[];
  encodings: WafEncoding[];
  /** Every payload in every placement and encoding, instead of one payload per cell (round-robin). */
  exhaustive: boolean;
}

export interface SloPolicy {
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxErrorRate?: number;
  ratePerSec?: number;
  durationSec: number;
}

export interface QuotaPolicy {
  limit: number;
  period: 'DAY' | 'WEEK' | 'MONTH';
  credential?: string;
  tolerance: number;
  ratePerSec?: number;
}

/** A canary release on the route: how its answers are told apart, and how closely the split is measured. */
export interface CanaryPolicy {
  /** Configured share of traffic sent to the canary, percent (API Gateway `canarySettings.percentTraffic`). */
  percent: number;
  /** How the backend marks a canary answer: a response header or a top-level JSON body field, with this value. */
  marker: { header?: string; bodyField?: string; value: string };
  /** Half-width of the Wilson interval to reach, as a share (0.02 = ±2 percentage points). */
  precision: number;
  /** Confidence of the interval (0.95). */
  confidence: number;
}
export const DEFAULT_CANARY_PRECISION = 0.02;
export const DEFAULT_CANARY_CONFIDENCE = 0.95;

/** X-Ray: answers must carry `X-Amzn-Trace-Id`, and a Root the client sends must come back. */
export interface TracingPolicy {
  required: boolean;
}

export interface RoutePolicy {
  /** Stable id used in check ids, e.g. `GET /api/items`. */
  id: string;
  /** Position in the policy file, for messages (`routes[2]`). */
  index: number;
  /** 1-based line of the route's entry in the policy file (where report.sarif points); undefined when not parsed from text. */
  line?: number;
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
  quota?: QuotaPolicy;
  /** Per-key throttles; each entry has `credential` set. */
  usagePlans?: Array<ThrottlePolicy & { credential: string; name: string }>;
  /** Headers every probe of this route sends: the policy's top-level `headers` with the route's own over them. */
  headers?: PolicyHeaders;
  canary?: CanaryPolicy;
  /** The route's own `tracing`, else the policy's top-level one. */
  tracing?: TracingPolicy;
}

/** Extra request headers from the policy: lower-cased name → value (src/policy/headers.ts). */
export type PolicyHeaders = Record<string, string>;

/**
 * One WebSocket API endpoint (`websockets:` in the policy; docs/websocket.md). API Gateway
 * authorizes only `$connect` (the upgrade), throttles messages per stage/route with a token bucket
 * and limits message size (128 KB, close 1009) and frame size (32 KB).
 */
export interface WebSocketPolicy {
  /** `WS <name>`: the check ids' route part. */
  id: string;
  /** Position in the policy file (`websockets[0]`). */
  index: number;
  name: string;
  /** Absolute `ws://` or `wss://` URL; undefined when `path` is on the target. */
  url?: string;
  /** Path below the target (the upgrade goes to the target's origin, with ws:// or wss://). */
  path?: string;
  auth?: WebSocketAuthPolicy;
  throttle?: WebSocketThrottlePolicy;
  limits?: WebSocketLimits;
  /** Message every probe sends: the route template with the route key set (JSON text). */
  message: Record<string, unknown>;
  /** Route key the message selects (`$default` when none). */
  routeKey: string;
  /** API Gateway's routeSelectionExpression, e.g. `$request.body.action`. */
  routeSelectionExpression: string;
}

export interface WebSocketAuthPolicy {
  required: boolean;
  credential?: string;
  /** Where `$connect` carries the credential: a header (the credential's own) or a query parameter. */
  in: 'header' | 'query';
  /** Query parameter name when `in` is query (default: the credential's header name). */
  queryParam: string;
}

export interface WebSocketThrottlePolicy extends ThrottlePolicy {
  /** One bucket per connection (true) or one per stage/route shared by every connection (false: API Gateway). */
  perConnection: boolean;
  /** Connections the across-connections probe spreads its messages over. */
  connections: number;
}

export interface WebSocketLimits {
  maxMessageBytes?: number;
  /** Frame size the client splits messages into (API Gateway: 32 KB per frame). */
  frameBytes: number;
  idleTimeoutSec?: number;
}

export const DEFAULT_WS_FRAME_BYTES = 32 * 1024;
export const DEFAULT_WS_ROUTE_SELECTION = '$request.body.action';

/** API Gateway flavour: which CloudWatch metrics and dimensions it publishes. */
export type ApiType = 'REST' | 'HTTP' | 'WEBSOCKET';

/** Where the gateway's CloudWatch metrics live (see docs/cloudwatch.md). */
export interface CloudWatchSource {
  /** Region of the API; undefined: --region, else the AWS SDK's default chain (AWS_REGION, profile). */
  region?: string;
  /** CloudWatch endpoint URL (a local emulator); --endpoint-url overrides it. */
  endpoint?: string;
  api: {
    type: ApiType;
    /** REST: the ApiName dimension. */
    name?: string;
    /** HTTP and WEBSOCKET: the ApiId dimension. */
    id?: string;
    stage: string;
    /** Detailed (per-method/per-route) metrics are enabled on the stage. */
    detailed: boolean;
  };
  /** AWS WAF web ACL in front of the API (AWS/WAFV2, regional). */
  waf?: { webAcl: string; rule: string };
  /**
   * The policy's WebSocket API when `api` is its REST or HTTP one: a second metrics check
   * (ConnectCount, MessageCount, ClientError on ApiId,Stage), sharing Region, endpoint and tolerances.
   */
  websocketApi?: { id: string; stage: string };
}

/** Explicit tolerances of the CloudWatch reconciliation (defaults in DEFAULT_METRICS_TOLERANCE). */
export interface MetricsTolerance {
  /** Relative slack on counts per minute (0.01 = 1%). */
  countRelative: number;
  /** Absolute slack on counts per minute, in requests. */
  countAbsolute: number;
  /** Relative slack on latency percentiles. */
  latencyRelative: number;
  /** Absolute slack on latency percentiles, ms. */
  latencyMs: number;
  /** Largest difference between the client's and AWS's clocks, ms. */
  clockSkewMs: number;
  /** Fewest answers in a minute for its p99 to be compared. */
  minLatencySamples: number;
}

export interface MetricsPolicy {
  cloudwatch: CloudWatchSource;
  tolerance: MetricsTolerance;
  /** Longest wait for late datapoints after the run, seconds; --metrics-wait overrides it. */
  waitSec: number;
}

export interface RunLimits {
  maxRequests: number;
  maxDurationSec: number;
  requestTimeoutMs: number;
  /** Stop a check's load when this share of the last `window` answers were 5xx or transport errors. */
  stopOnErrors: { window: number; share: number };
}

/** The severities a release gate can be set at (`info` never gates). docs/findings.md. */
export type GateLevel = 'critical' | 'high' | 'medium' | 'low';
export const DEFAULT_GATE: GateLevel = 'high';

export interface Policy {
  version: 1;
  /** Base URL without a trailing slash; undefined when the file has none and no --target was given. */
  target?: string;
  vendor: Vendor;
  limits: RunLimits;
  credentials: Record<string, Credential>;
  /** Top-level `headers`: sent by every probe (routes carry them merged with their own). */
  headers?: PolicyHeaders;
  /** Header values taken from environment variables: secrets, redacted like credentials (util/redact.ts). */
  headerSecrets?: Array<{ name: string; value: string }>;
  routes: RoutePolicy[];
  /** Reconcile the run with the gateway's CloudWatch metrics (checks/metrics/check.ts). */
  metrics?: MetricsPolicy;
  /** WebSocket API endpoints (checks ws-auth, ws-throttle, ws-limits). */
  websockets?: WebSocketPolicy[];
  /** The release gate; `--fail-on` overrides it. */
  gate: { failOn: GateLevel };
}

export const DEFAULT_LIMITS: RunLimits = {
  maxRequests: 20_000,
  maxDurationSec: 300,
  requestTimeoutMs: 5_000,
  stopOnErrors: { window: 50, share: 0.2 },
};
export const DEFAULT_REFUSE_STATUS = [401, 403];
export const DEFAULT_THROTTLE_TOLERANCE = 0.1;
export const DEFAULT_METRICS_TOLERANCE: MetricsTolerance = {
  countRelative: 0.01,
  countAbsolute: 1,
  latencyRelative: 0.25,
  latencyMs: 25,
  clockSkewMs: 1_000,
  minLatencySamples: 20,
};
export const DEFAULT_METRICS_WAIT_SEC = 240;

/** The credential a route's non-auth probes carry, if the route requires one. */
export function routeCredential(policy: Policy, route: RoutePolicy): Credential | undefined {
  const name = route.auth?.required ? route.auth.credential : undefined;
  return name === undefined ? undefined : policy.credentials[name];
}

/** True when `status` is the backend's normal answer for this route. */
export function isOkStatus(route: RoutePolicy, status: number): boolean {
  return route.okStatus ? route.okStatus.includes(status) : status >= 200 && status < 300;
}
