import type { CanaryPolicy, Credential, Policy, RoutePolicy, SigV4Settings } from '../policy/types.js';
import { CanaryDeck } from './canary.js';
import { compileCors, type CompiledCors, type CorsMode } from './cors.js';
import { CANARY_SKEW_FACTOR, type FaultName } from './faults.js';
import { TokenBucket } from './token-bucket.js';

/**
 * The policy turned into per-route state the request handler only reads (plus token buckets):
 * everything that can be computed once (CORS header values, expected credential header values,
 * the backend body, the effective limits under faults) is computed here, at startup.
 */

/** A credential as the gateway checks it: header name and the exact value expected. */
export interface CredentialMatcher {
  name: string;
  /** Lower-case, as node delivers header names. */
  header: string;
  /** `Bearer <value>` when the credential has a scheme, else the value. */
  expected: string;
}

export interface EffectiveThrottle {
  ratePerSec: number;
  burstLimit: number;
}

export interface CompiledRoute {
  policy: RoutePolicy;
  /** `GET /api/items`: the metrics key and the backend's `route` field. */
  id: string;
  cors?: CompiledCors;
  /** Credentials accepted on this route: the auth credential and, if different, the throttle's. */
  credentials: readonly CredentialMatcher[];
  /** False when the route needs no key, or under the `auth-off` fault. */
  enforceAuth: boolean;
  /** Undefined: not limited (no throttle in the policy, or the `no-throttle` fault). */
  throttle?: EffectiveThrottle;
  /** One bucket per API key (usage plans are per key), keyed by credential name; '' = no key. */
  buckets: Map<string, TokenBucket>;
  /** Usage-plan limits by credential name: a key with a plan gets the plan's bucket. */
  planThrottles: Map<string, EffectiveThrottle>;
  /** Usage-plan quota of one key (absent under the `no-quota` fault). */
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH'; credential: string };
  /** Requests counted per key in the current period. */
  quotaUsed: Map<string, { period: number; count: number }>;
  /** Status of the backend's normal answer: the route's first okStatus, else 200. */
  okStatus: number;
  /** JSON body of the normal answer; empty for HEAD, 204 and 304. */
  okBody: Buffer;
  /** IAM auth: the credential whose SigV4 signature the route verifies (absent under `iam-off`). */
  sigv4?: SigV4Settings;
  /** Canary release: the split and how canary answers are marked. */
  canary?: { deck: CanaryDeck; marker: CanaryPolicy['marker'] };
  /** Answers carry X-Amzn-Trace-Id (tracing.required, unless the `no-trace` fault). */
  tracing: boolean;
}

/** What the gateway is told beyond the policy (`serve --canary`, `demo --canary`). */
export interface RouteOptions {
  /** The canary's share in percent on every canary route, instead of the policy's. */
  canaryPercent?: number;
}

export interface CompiledPath {
  /** Configured methods on this resource. */
  methods: Map<string, CompiledRoute>;
  /**
   * CORS used for the preflight and for gateway errors on this path when the method is not
   * known: the first route on the path that has CORS. Undefined: OPTIONS is not configured.
   */
  cors?: CompiledCors;
}

export interface RouteTable {
  /** Exact path → resource. `/api/items/` is a different resource from `/api/items`. */
  paths: Map<string, CompiledPath>;
  /** Lower-case names of every credential header: the WAF does not inspect them. */
  credentialHeaders: ReadonlySet<string>;
  /** Some route verifies a SigV4 signature, which covers the body: bodies are read whole. */
  verifiesSignatures: boolean;
}

/** Metrics key of requests that match no route (unknown path or method). */
export const UNROUTED = '(unrouted)';

const NO_BODY_STATUSES = new Set([204, 304]);

export function compileRoutes(policy: Policy, faults: ReadonlySet<FaultName>, options: RouteOptions = {}): RouteTable {
  const corsMode: CorsMode | 'off' = faults.has('cors-off')
    ? 'off'
    : faults.has('cors-reflect')
      ? 'reflect'
      : faults.has('cors-star')
        ? 'star'
        : 'policy';
  const paths = new Map<string, CompiledPath>();
  const credentialHeaders = new Set<string>();
  for (const credential of Object.values(policy.credentials)) credentialHeaders.add(credential.header.toLowerCase());

  for (const route of policy.routes) {
    const compiled = { ...compileRoute(policy, route, faults, corsMode), ...awsFeatures(policy, route, faults, options) };
    let path = paths.get(route.path);
    if (path === undefined) {
      path = { methods: new Map() };
      paths.set(route.path, path);
    }
    if (path.methods.has(route.method)) throw new Error(`route ${route.id} is defined twice`);
    path.methods.set(route.method, compiled);
    if (path.cors === undefined && compiled.cors !== undefined) path.cors = compiled.cors;
  }
  const verifiesSignatures = [...paths.values()].some((p) => [...p.methods.values()].some((r) => r.sigv4 !== undefined));
  return { paths, credentialHeaders, verifiesSignatures };
}

function compileRoute(
  policy: Policy,
  route: RoutePolicy,
  faults: ReadonlySet<FaultName>,
  corsMode: CorsMode | 'off',
): Omit<CompiledRoute, 'sigv4' | 'canary' | 'tracing'> {
  const id = `${route.method} ${route.path}`;
  const credentialNames = new Set<string>();
  if (route.auth?.required) {
    if (route.auth.credential === undefined) throw new Error(`route ${id}: auth.required needs auth.credential`);
    credentialNames.add(route.auth.credential);
    // A key from another usage plan (throttle.credential) is a valid key too, as on AWS.
    if (route.throttle?.credential !== undefined) credentialNames.add(route.throttle.credential);
  }
  for (const plan of route.usagePlans ?? []) credentialNames.add(plan.credential);
  // The quota's key is recognised (and counted) even on a route that does not require a key.
  if (route.quota) credentialNames.add(route.quota.credential ?? route.auth?.credential ?? '');
  credentialNames.delete('');
  // An IAM credential is no header value to match: the route verifies its signature (awsFeatures).
  const credentials = [...credentialNames]
    .filter((name) => policy.credentials[name]?.kind !== 'sigv4')
    .map((name) => credentialMatcher(name, policy.credentials[name], id));

  const okStatus = route.okStatus?.[0] ?? 200;
  const hasBody = route.method !== 'HEAD' && !NO_BODY_STATUSES.has(okStatus);
  return {
    policy: route,
    id,
    ...(route.cors && corsMode !== 'off' ? { cors: compileCors(route.cors, corsMode) } : {}),
    credentials,
    enforceAuth: credentials.length > 0 && !faults.has('auth-off'),
    ...effectiveThrottle(route, faults),
    planThrottles: new Map(
      (faults.has('no-throttle') || faults.has('plans-ignored') ? [] : (route.usagePlans ?? [])).map((plan) => [
        plan.credential,
        applyThrottleFaults(plan, faults),
      ]),
    ),
    buckets: new Map(),
    ...(route.quota && !faults.has('no-quota')
      ? { quota: { limit: route.quota.limit, period: route.quota.period, credential: route.quota.credential ?? route.auth!.credential! } }
      : {}),
    quotaUsed: new Map(),
    okStatus,
    okBody: hasBody ? Buffer.from(JSON.stringify({ ok: true, route: id })) : Buffer.alloc(0),
  };
}

/** IAM auth, canary split and tracing of a route, with their faults applied. */
function awsFeatures(
  policy: Policy,
  route: RoutePolicy,
  faults: ReadonlySet<FaultName>,
  options: RouteOptions,
): Pick<CompiledRoute, 'sigv4' | 'canary' | 'tracing'> {
  const credential = route.auth?.required && route.auth.credential !== undefined ? policy.credentials[route.auth.credential] : undefined;
  const percent = (options.canaryPercent ?? route.canary?.percent ?? 0) * (faults.has('canary-skew') ? CANARY_SKEW_FACTOR : 1);
  return {
    ...(credential?.sigv4 && !faults.has('iam-off') ? { sigv4: credential.sigv4 } : {}),
    ...(route.canary ? { canary: { deck: new CanaryDeck(Math.min(100, percent)), marker: route.canary.marker } } : {}),
    tracing: (route.tracing?.required ?? false) && !faults.has('no-trace'),
  };
}

function credentialMatcher(name: string, credential: Credential | undefined, routeId: string): CredentialMatcher {
  if (credential === undefined) throw new Error(`route ${routeId}: credential "${name}" is not defined under credentials`);
  return {
    name,
    header: credential.header.toLowerCase(),
    expected: credential.scheme ? `${credential.scheme} ${credential.value}` : credential.value,
  };
}

/** The policy's limits with the throttle faults applied. */
function effectiveThrottle(route: RoutePolicy, faults: ReadonlySet<FaultName>): { throttle?: EffectiveThrottle } {
  if (route.throttle === undefined || faults.has('no-throttle')) return {};
  return { throttle: applyThrottleFaults(route.throttle, faults) };
}

function applyThrottleFaults(limits: { rateLimit: number; burstLimit: number }, faults: ReadonlySet<FaultName>): EffectiveThrottle {
  return {
    ratePerSec: limits.rateLimit * (faults.has('fast-throttle') ? 2 : 1),
    burstLimit: limits.burstLimit * (faults.has('big-burst') ? 3 : 1),
  };
}

/**
 * The first accepted credential the request carries with the exact expected value, or undefined.
 * `headers` are node's lower-cased request headers.
 */
export function matchCredential(
  route: CompiledRoute,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): CredentialMatcher | undefined {
  for (const credential of route.credentials) {
    if (headers[credential.header] === credential.expected) return credential;
  }
  return undefined;
}

const PERIOD_MS = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30 * 86_400_000 } as const;

/**
 * Counts one accepted request against the key's usage-plan quota; false when the quota for the
 * current period (UTC days; weeks and months approximated as 7 and 30 days) is used up.
 */
export function takeQuota(route: CompiledRoute, keyName: string, epochMs: number): boolean {
  const quota = route.quota;
  if (quota === undefined || keyName !== quota.credential) return true;
  const period = Math.floor(epochMs / PERIOD_MS[quota.period]);
  const used = route.quotaUsed.get(keyName);
  if (used === undefined || used.period !== period) {
    route.quotaUsed.set(keyName, { period, count: 1 });
    return true;
  }
  if (used.count >= quota.limit) return false;
  used.count++;
  return true;
}

/**
 * Takes a token from the bucket of `keyName` ('' for requests without a key). Returns true when
 * the request may pass. Buckets are created full on first use; there is at most one per accepted
 * credential plus the keyless one, so the map stays bounded whatever clients send.
 */
export function takeToken(route: CompiledRoute, keyName: string, nowMs: number): boolean {
  const throttle = route.planThrottles.get(keyName) ?? route.throttle;
  if (throttle === undefined) return true;
  let bucket = route.buckets.get(keyName);
  if (bucket === undefined) {
    bucket = new TokenBucket(throttle.ratePerSec, throttle.burstLimit, nowMs);
    route.buckets.set(keyName, bucket);
  }
  return bucket.tryTake(nowMs);
}
