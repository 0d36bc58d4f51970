import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { PolicyError, type PolicyIssue } from './errors.js';
import { applyPolicyHeaders } from './headers.js';
import { schemaIssues } from './schema.js';
import { resolveWebSockets, type RawWebSocket } from './websockets.js';
import {
  DEFAULT_GATE,
  DEFAULT_LIMITS,
  DEFAULT_METRICS_TOLERANCE,
  DEFAULT_METRICS_WAIT_SEC,
  DEFAULT_REFUSE_STATUS,
  DEFAULT_THROTTLE_STATUS,
  DEFAULT_THROTTLE_TOLERANCE,
  DEFAULT_CANARY_CONFIDENCE,
  DEFAULT_CANARY_PRECISION,
  DEFAULT_SIGV4_SERVICE,
  BODY_METHODS,
  DEFAULT_WAF_ENCODINGS,
  WAF_BODY_PLACEMENTS,
  WAF_CATEGORIES,
  WAF_PLACEMENTS,
  type Credential,
  type CredentialKind,
  type GateLevel,
  type HttpMethod,
  type MetricsPolicy,
  type Policy,
  type RoutePolicy,
  type ThrottleAlgorithm,
  type Vendor,
  type WafCategory,
  type WafEncoding,
  type WafPlacement,
  type WafPolicy,
  type CanaryPolicy,
  type TracingPolicy,
} from './types.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** Where `${NAME}` is looked up. The CLI passes process.env; tests pass their own. */
  env: Environment;
  /** --target: replaces the file's target. */
  targetOverride?: string;
}

/** Reads, validates and resolves a policy file. Throws PolicyError listing every problem found. */
export function loadPolicyFile(file: string, options: LoadOptions): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(file, [
      { path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` },
    ]);
  }
  return parsePolicy(text, file, options);
}

/** Same as loadPolicyFile for text already in memory (YAML or JSON). */
export function parsePolicy(text: string, file: string, options: LoadOptions): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      file,
      doc.errors.map((error) => ({
        path: '',
        message: `not valid YAML/JSON: ${error.message.split('\n')[0]}`,
        line: lineCounter.linePos(error.pos[0]).line,
      })),
    );
  }
  const raw: unknown = doc.toJS();
  // Every stage runs even when an earlier one finds problems, so one run lists them all: an unset
  // environment variable is named beside the schema's complaints. Only resolve() needs a document
  // of the schema's shape, so it alone waits for a clean schema.
  const issues: PolicyIssue[] = [];
  const interpolated = interpolateEnv(raw, options.env, [], issues);
  const shapeIssues = schemaIssues(raw);
  const policy = shapeIssues.length === 0 ? resolve(interpolated as RawPolicy, options, issues) : undefined;
  if (policy) applyPolicyHeaders(policy, raw as RawPolicy, interpolated as RawPolicy, issues);
  const all = [...shapeIssues, ...issues];
  if (all.length > 0 || policy === undefined)
    throw new PolicyError(file, inSourceOrder(all.map((issue) => withLine(issue, doc, lineCounter))));
  for (const route of policy.routes) {
    const line = lineAt(doc, lineCounter, ['routes', route.index]);
    if (line !== undefined) route.line = line;
  }
  return policy;
}

/** Issues in the order of their lines (a stable sort: those without one keep their place at the end). */
function inSourceOrder(issues: PolicyIssue[]): PolicyIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.i - b.i)
    .map(({ issue }) => issue);
}

/** Checks a base URL given on the command line or in the file; returns the problem, if any. */
export function targetProblem(target: string): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `"${target}" is not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, got ${url.protocol}`;
  if (url.search || url.hash) return 'must not have a query string or fragment';
  if (url.username || url.password) return 'must not carry credentials; use `credentials` with an environment variable';
  return undefined;
}

// ---------------------------------------------------------------------------------------------

/** `${NAME}` in any string value is replaced by the environment variable NAME. */
function interpolateEnv(value: unknown, env: Environment, path: Array<string | number>, issues: PolicyIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = env[name];
      if (found === undefined || found === '') {
        issues.push({ path: pathOf(path), message: `environment variable ${name} is not set` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, env, [...path, i], issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, [...path, key], issues)]));
  }
  return value;
}

// The shapes below are what the schema guarantees; resolve() adds defaults and cross-field rules.
interface RawCredential {
  header?: string;
  scheme?: string;
  /** Absent only for kind sigv4 (the schema's if/then). */
  value?: string;
  kind?: CredentialKind;
  expiredValue?: string;
  region?: string;
  service?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}
interface RawRoute {
  name?: string;
  method: HttpMethod;
  path: string;
  okStatus?: number[];
  headers?: Record<string, string>;
  auth?: { required: boolean; credential?: string; refuseStatus?: number[] };
  throttle?: {
    rateLimit: number;
    burstLimit: number;
    tolerance?: number;
    credential?: string;
    probeSeconds?: number;
    status?: number[];
    algorithm?: ThrottleAlgorithm;
    windowSec?: number;
    allowDelayMs?: number;
  };
  cors?: {
    allowOrigins: string[];
    allowMethods?: HttpMethod[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    allowCredentials?: boolean;
    maxAge?: number;
  };
  waf?: {
    blockStatus: number[];
    minBlockRate?: number;
    maxFalsePositiveRate?: number;
    categories?: WafCategory[];
    placements?: WafPlacement[];
    encodings?: WafEncoding[];
    exhaustive?: boolean;
  };
  usagePlans?: Array<{
    name?: string;
    credential: string;
    rateLimit: number;
    burstLimit: number;
    tolerance?: number;
    probeSeconds?: number;
  }>;
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH'; credential?: string; tolerance?: number; ratePerSec?: number };
  slo?: { p50Ms?: number; p95Ms?: number; p99Ms?: number; maxErrorRate?: number; ratePerSec?: number; durationSec?: number };
  canary?: { percent: number; marker: CanaryPolicy['marker']; precision?: number; confidence?: number };
  tracing?: TracingPolicy;
}
interface RawPolicy {
  version: 1;
  target?: string;
  vendor?: Vendor;
  limits?: Partial<Policy['limits']>;
  credentials?: Record<string, RawCredential>;
  headers?: Record<string, string>;
  routes: RawRoute[];
  metrics?: RawMetrics;
  websockets?: RawWebSocket[];
  gate?: { failOn?: GateLevel };
  tracing?: TracingPolicy;
}
interface RawMetrics {
  cloudwatch: {
    region?: string;
    endpoint?: string;
    api: { type: 'REST' | 'HTTP' | 'WEBSOCKET'; name?: string; id?: string; stage: string; detailed?: boolean };
    waf?: { webAcl: string; rule?: string };
    websocketApi?: { id: string; stage: string };
  };
  tolerance?: Partial<MetricsPolicy['tolerance']>;
  waitSec?: number;
}

function resolve(raw: RawPolicy, options: LoadOptions, issues: PolicyIssue[]): Policy {
  const credentials: Record<string, Credential> = {};
  for (const [name, credential] of Object.entries(raw.credentials ?? {})) {
    credentials[name] =
      credential.kind === 'sigv4'
        ? sigv4Credential(name, credential)
        : {
            name,
            header: (credential.header ?? 'x-api-key').toLowerCase(),
            value: credential.value ?? '',
            ...(credential.scheme ? { scheme: credential.scheme } : {}),
            ...(credential.kind === 'jwt' ? { kind: 'jwt' as const } : {}),
            ...(credential.expiredValue !== undefined ? { expiredValue: credential.expiredValue } : {}),
          };
    credentialIssues(`credentials.${name}`, credential, issues);
  }

  const target = options.targetOverride ?? raw.target;
  if (target !== undefined) {
    const problem = targetProblem(target);
    if (problem) issues.push({ path: options.targetOverride !== undefined ? '--target' : 'target', message: problem });
  }

  const seenRoutes = new Map<string, number>();
  const routes = raw.routes.map((rawRoute, index): RoutePolicy => {
    // Methods are accepted in any case (the schema says so) and used upper-case from here on.
    const route = normaliseMethods(rawRoute);
    const id = `${route.method} ${route.path}`;
    const at = `routes[${index}]`;
    const earlier = seenRoutes.get(id);
    if (earlier !== undefined) issues.push({ path: at, message: `duplicates routes[${earlier}] (${id})` });
    seenRoutes.set(id, index);

    const credentialRef = (field: string, name: string | undefined): void => {
      if (name !== undefined && !(name in credentials)) {
        const known = Object.keys(credentials);
        issues.push({
          path: `${at}.${field}`,
          message: `credential "${name}" is not defined under credentials${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
        });
      }
    };
    credentialRef('auth.credential', route.auth?.credential);
    credentialRef('throttle.credential', route.throttle?.credential);
    credentialRef('quota.credential', route.quota?.credential);
    route.usagePlans?.forEach((plan, i) => credentialRef(`usagePlans[${i}].credential`, plan.credential));
    const planKeys = route.usagePlans?.map((plan) => plan.credential) ?? [];
    if (new Set(planKeys).size !== planKeys.length)
      issues.push({ path: `${at}.usagePlans`, message: 'lists a credential twice (a key belongs to one usage plan)' });
    if (route.quota && route.quota.credential === undefined && !(route.auth?.required && route.auth.credential)) {
      issues.push({
        path: `${at}.quota.credential`,
        message: 'is required when the route has no auth credential (a quota belongs to a usage-plan key)',
      });
    }
    if (route.auth?.required && route.auth.credential === undefined) {
      issues.push({
        path: `${at}.auth.credential`,
        message: 'is required when auth.required is true (the positive control needs a valid credential)',
      });
    }
    if (route.cors?.allowCredentials && route.cors.allowOrigins.includes('*')) {
      issues.push({ path: `${at}.cors.allowOrigins`, message: '"*" cannot be combined with allowCredentials: true (browsers reject it)' });
    }
    if (route.canary) canaryIssues(`${at}.canary`, route.canary, issues);
    const tracing = route.tracing ?? raw.tracing;
    const slo = route.slo;
    if (slo && slo.p50Ms === undefined && slo.p95Ms === undefined && slo.p99Ms === undefined && slo.maxErrorRate === undefined) {
      issues.push({ path: `${at}.slo`, message: 'sets no objective (give p50Ms, p95Ms, p99Ms or maxErrorRate)' });
    }

    return {
      id,
      index,
      name: route.name ?? id,
      method: route.method,
      path: route.path,
      ...(route.okStatus ? { okStatus: route.okStatus } : {}),
      ...(route.auth
        ? {
            auth: {
              required: route.auth.required,
              ...(route.auth.credential !== undefined ? { credential: route.auth.credential } : {}),
              refuseStatus: route.auth.refuseStatus ?? DEFAULT_REFUSE_STATUS,
            },
          }
        : {}),
      ...(route.throttle
        ? {
            throttle: {
              rateLimit: route.throttle.rateLimit,
              burstLimit: route.throttle.burstLimit,
              tolerance: route.throttle.tolerance ?? DEFAULT_THROTTLE_TOLERANCE,
              probeSeconds: route.throttle.probeSeconds ?? 2,
              status: route.throttle.status ?? [...DEFAULT_THROTTLE_STATUS],
              ...(route.throttle.credential !== undefined ? { credential: route.throttle.credential } : {}),
              ...(route.throttle.algorithm !== undefined ? { algorithm: route.throttle.algorithm } : {}),
              ...(route.throttle.windowSec !== undefined ? { windowSec: route.throttle.windowSec } : {}),
              ...(route.throttle.allowDelayMs !== undefined ? { allowDelayMs: route.throttle.allowDelayMs } : {}),
            },
          }
        : {}),
      ...(route.cors
        ? {
            cors: {
              allowOrigins: route.cors.allowOrigins,
              allowMethods: route.cors.allowMethods ?? [route.method],
              allowHeaders: (route.cors.allowHeaders ?? []).map((h) => h.toLowerCase()),
              exposeHeaders: (route.cors.exposeHeaders ?? []).map((h) => h.toLowerCase()),
              allowCredentials: route.cors.allowCredentials ?? false,
              ...(route.cors.maxAge !== undefined ? { maxAge: route.cors.maxAge } : {}),
            },
          }
        : {}),
      ...(route.waf ? { waf: resolveWaf(route.waf, route.method, `${at}.waf`, issues) } : {}),
      ...(slo ? { slo: { ...slo, durationSec: slo.durationSec ?? 3 } } : {}),
      ...(route.usagePlans
        ? {
            usagePlans: route.usagePlans.map((plan) => ({
              name: plan.name ?? plan.credential,
              credential: plan.credential,
              rateLimit: plan.rateLimit,
              burstLimit: plan.burstLimit,
              tolerance: plan.tolerance ?? DEFAULT_THROTTLE_TOLERANCE,
              probeSeconds: plan.probeSeconds ?? 2,
              // A plan's key is refused the way the route's throttle refuses.
              status: route.throttle?.status ?? [...DEFAULT_THROTTLE_STATUS],
            })),
          }
        : {}),
      ...(route.quota ? { quota: { ...route.quota, tolerance: route.quota.tolerance ?? 0 } } : {}),
      ...(route.canary
        ? {
            canary: {
              percent: route.canary.percent,
              marker: route.canary.marker,
              precision: route.canary.precision ?? DEFAULT_CANARY_PRECISION,
              confidence: route.canary.confidence ?? DEFAULT_CANARY_CONFIDENCE,
            },
          }
        : {}),
      ...(tracing ? { tracing } : {}),
    };
  });

  return {
    version: 1,
    ...(target !== undefined ? { target: target.replace(/\/+$/, '') } : {}),
    vendor: raw.vendor ?? 'aws-rest',
    limits: { ...DEFAULT_LIMITS, ...raw.limits, stopOnErrors: { ...DEFAULT_LIMITS.stopOnErrors, ...raw.limits?.stopOnErrors } },
    credentials,
    routes,
    ...(raw.metrics ? { metrics: resolveMetrics(raw.metrics, issues) } : {}),
    ...(raw.websockets ? { websockets: resolveWebSockets(raw.websockets, credentials, issues) } : {}),
    gate: { failOn: raw.gate?.failOn ?? DEFAULT_GATE },
  };
}

/** `get` → `GET`, in the route's method and its CORS allowMethods. */
function normaliseMethods(route: RawRoute): RawRoute {
  const method = route.method.toUpperCase() as HttpMethod;
  if (!route.cors?.allowMethods) return { ...route, method };
  const allowMethods = route.cors.allowMethods.map((m) => m.toUpperCase() as HttpMethod);
  return { ...route, method, cors: { ...route.cors, allowMethods } };
}

/** The metrics block: REST APIs are named, HTTP and WebSocket APIs are identified (no name lookup). */
function resolveMetrics(raw: RawMetrics, issues: PolicyIssue[]): MetricsPolicy {
  const { api, region, endpoint, waf, websocketApi } = raw.cloudwatch;
  const at = 'metrics.cloudwatch.api';
  if (websocketApi && api.type === 'WEBSOCKET')
    issues.push({
      path: 'metrics.cloudwatch.websocketApi',
      message: 'is for a second, WebSocket API beside a REST or HTTP `api`; `api` is already a WEBSOCKET one',
    });
  if (api.type === 'REST') {
    if (api.name === undefined)
      issues.push({ path: `${at}.name`, message: 'is required for a REST API (its metrics are keyed by ApiName)' });
    if (api.id !== undefined)
      issues.push({ path: `${at}.id`, message: 'is not used for a REST API (its metrics are keyed by ApiName, not the id): give `name`' });
  } else {
    const kind = api.type === 'HTTP' ? 'an HTTP API' : 'a WebSocket API';
    if (api.id === undefined) {
      issues.push({
        path: `${at}.id`,
        message:
          `is required for ${kind} (its metrics are keyed by ApiId` +
          `; gatecheck does not look names up: \`aws apigatewayv2 get-apis\` lists the ids)`,
      });
    }
    if (api.name !== undefined) issues.push({ path: `${at}.name`, message: `is not supported for ${kind}: give its \`id\` instead` });
  }
  if (endpoint !== undefined) {
    const problem = targetProblem(endpoint);
    if (problem) issues.push({ path: 'metrics.cloudwatch.endpoint', message: problem });
  }
  return {
    cloudwatch: {
      ...(region !== undefined ? { region } : {}),
      ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
      api: {
        type: api.type,
        ...(api.name !== undefined ? { name: api.name } : {}),
        ...(api.id !== undefined ? { id: api.id } : {}),
        stage: api.stage,
        detailed: api.detailed ?? false,
      },
      ...(waf ? { waf: { webAcl: waf.webAcl, rule: waf.rule ?? 'ALL' } } : {}),
      ...(websocketApi ? { websocketApi: { id: websocketApi.id, stage: websocketApi.stage } } : {}),
    },
    tolerance: { ...DEFAULT_METRICS_TOLERANCE, ...raw.tolerance },
    waitSec: raw.waitSec ?? DEFAULT_METRICS_WAIT_SEC,
  };
}

/** The waf block with its defaults; body placements only where the method carries a body. */
function resolveWaf(raw: NonNullable<RawRoute['waf']>, method: HttpMethod, at: string, issues: PolicyIssue[]): WafPolicy {
  const bodyAllowed = BODY_METHODS.includes(method);
  const placements = raw.placements ?? WAF_PLACEMENTS.filter((p) => bodyAllowed || !WAF_BODY_PLACEMENTS.includes(p));
  for (const placement of raw.placements ?? []) {
    if (!bodyAllowed && WAF_BODY_PLACEMENTS.includes(placement)) {
      issues.push({
        path: `${at}.placements`,
        message: `"${placement}" is a request body: a ${method} route does not take one (body placements need ${BODY_METHODS.join(', ')})`,
      });
    }
  }
  return {
    blockStatus: raw.blockStatus,
    // Kept unset when the policy does not write them: only a threshold the user wrote is explicit.
    ...(raw.minBlockRate !== undefined ? { minBlockRate: raw.minBlockRate } : {}),
    ...(raw.maxFalsePositiveRate !== undefined ? { maxFalsePositiveRate: raw.maxFalsePositiveRate } : {}),
    categories: unique(raw.categories ?? [...WAF_CATEGORIES]),
    placements: unique(placements),
    encodings: unique(raw.encodings ?? [...DEFAULT_WAF_ENCODINGS]),
    exhaustive: raw.exhaustive ?? false,
  };
}

/**
 * A JWT credential must hold a JWT (three base64url parts), or the forged variants would be
 * nonsense. Messages never quote the value: it is a secret.
 */
function credentialIssues(at: string, credential: RawCredential, issues: PolicyIssue[]): void {
  sigv4Issues(at, credential, issues);
  if (credential.kind === 'sigv4') return;
  if (credential.kind === 'jwt') {
    // An empty value is an unset environment variable, reported already.
    if (credential.value !== undefined && credential.value !== '' && !looksLikeJwt(credential.value))
      issues.push({ path: `${at}.value`, message: 'kind is jwt, but the value is not a JWT (header.payload.signature, base64url)' });
    if (credential.expiredValue !== undefined && !looksLikeJwt(credential.expiredValue)) {
      issues.push({ path: `${at}.expiredValue`, message: 'is not a JWT (header.payload.signature, base64url)' });
    }
  } else if (credential.expiredValue !== undefined) {
    issues.push({ path: `${at}.expiredValue`, message: 'is only used with kind: jwt' });
  }
}

/**
 * A sigv4 credential signs instead of carrying a header: `header` is `authorization` (where the
 * signature goes) and `value` the secret key, so everything that redacts credential values
 * redacts it too.
 */
function sigv4Credential(name: string, raw: RawCredential): Credential {
  return {
    name,
    header: 'authorization',
    value: raw.secretAccessKey ?? '',
    kind: 'sigv4',
    sigv4: {
      region: raw.region ?? '',
      service: raw.service ?? DEFAULT_SIGV4_SERVICE,
      accessKeyId: raw.accessKeyId ?? '',
      secretAccessKey: raw.secretAccessKey ?? '',
      ...(raw.sessionToken !== undefined ? { sessionToken: raw.sessionToken } : {}),
    },
  };
}

const SIGV4_FIELDS = ['region', 'service', 'accessKeyId', 'secretAccessKey', 'sessionToken'] as const;

/** The sigv4 fields only with kind sigv4, and a sigv4 credential has no header, scheme or value of its own. */
function sigv4Issues(at: string, credential: RawCredential, issues: PolicyIssue[]): void {
  if (credential.kind === 'sigv4') {
    for (const field of ['header', 'scheme', 'value', 'expiredValue'] as const) {
      if (credential[field] !== undefined)
        issues.push({ path: `${at}.${field}`, message: 'is not used with kind: sigv4 (requests are signed with the keys instead)' });
    }
  } else {
    for (const field of SIGV4_FIELDS) {
      if (credential[field] !== undefined) issues.push({ path: `${at}.${field}`, message: 'is only used with kind: sigv4' });
    }
  }
}

/** A marker names one place (the schema counts keys); a precision wider than the percent itself measures nothing. */
function canaryIssues(at: string, canary: NonNullable<RawRoute['canary']>, issues: PolicyIssue[]): void {
  if (canary.marker.header === undefined && canary.marker.bodyField === undefined)
    issues.push({ path: `${at}.marker`, message: 'needs header or bodyField (where the backend marks a canary answer)' });
  const share = canary.percent / 100;
  const precision = canary.precision ?? DEFAULT_CANARY_PRECISION;
  if (precision >= Math.min(share, 1 - share))
    issues.push({
      path: `${at}.precision`,
      message: `±${precision} is wider than the canary's share (${share}) or the base's: the interval could not tell the split from 0 or 1`,
    });
}

function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function pathOf(segments: Array<string | number>): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}

/** Finds the line of `routes[0].throttle.rateLimit` in the source, walking up to the nearest node that exists. */
export function withLine(issue: PolicyIssue, doc: Document, lineCounter: LineCounter): PolicyIssue {
  if (issue.line !== undefined || !issue.path || issue.path.startsWith('--')) return issue;
  const segments = [...issue.path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
  for (let n = segments.length; n > 0; n--) {
    const line = lineAt(doc, lineCounter, segments.slice(0, n));
    if (line !== undefined) return { ...issue, line };
  }
  return issue;
}

/** The 1-based line where the node at `segments` starts (`['routes', 2]`: the route's first line), if the document has it. */
function lineAt(doc: Document, lineCounter: LineCounter, segments: Array<string | number>): number | undefined {
  const node = doc.getIn(segments, true);
  return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
}
