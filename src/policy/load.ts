import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { PolicyError, type PolicyIssue } from './errors.js';
import { schemaIssues } from './schema.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_REFUSE_STATUS,
  DEFAULT_THROTTLE_TOLERANCE,
  type Credential,
  type HttpMethod,
  type Policy,
  type RoutePolicy,
  type Vendor,
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
    throw new PolicyError(file, [{ path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
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
      doc.errors.map((error) => ({ path: '', message: `not valid YAML/JSON: ${error.message.split('\n')[0]}`, line: lineCounter.linePos(error.pos[0]).line })),
    );
  }
  const raw: unknown = doc.toJS();
  const issues = schemaIssues(raw).map((issue) => withLine(issue, doc, lineCounter));
  if (issues.length > 0) throw new PolicyError(file, issues);

  // Both stages below run even when the first finds problems, so one run lists them all.
  const interpolated = interpolateEnv(raw, options.env, [], issues);
  const policy = resolve(interpolated as RawPolicy, options, issues);
  if (issues.length > 0) throw new PolicyError(file, issues.map((issue) => withLine(issue, doc, lineCounter)));
  return policy;
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
interface RawCredential { header?: string; scheme?: string; value: string }
interface RawRoute {
  name?: string; method: HttpMethod; path: string; okStatus?: number[];
  auth?: { required: boolean; credential?: string; refuseStatus?: number[] };
  throttle?: { rateLimit: number; burstLimit: number; tolerance?: number; credential?: string; probeSeconds?: number };
  cors?: { allowOrigins: string[]; allowMethods?: HttpMethod[]; allowHeaders?: string[]; exposeHeaders?: string[]; allowCredentials?: boolean; maxAge?: number };
  waf?: { blockStatus: number[]; minBlockRate?: number };
  slo?: { p50Ms?: number; p95Ms?: number; p99Ms?: number; maxErrorRate?: number; ratePerSec?: number; durationSec?: number };
}
interface RawPolicy {
  version: 1; target?: string; vendor?: Vendor;
  limits?: Partial<Policy['limits']>;
  credentials?: Record<string, RawCredential>;
  routes: RawRoute[];
}

function resolve(raw: RawPolicy, options: LoadOptions, issues: PolicyIssue[]): Policy {
  const credentials: Record<string, Credential> = {};
  for (const [name, credential] of Object.entries(raw.credentials ?? {})) {
    credentials[name] = { name, header: (credential.header ?? 'x-api-key').toLowerCase(), value: credential.value, ...(credential.scheme ? { scheme: credential.scheme } : {}) };
  }

  const target = options.targetOverride ?? raw.target;
  if (target !== undefined) {
    const problem = targetProblem(target);
    if (problem) issues.push({ path: options.targetOverride !== undefined ? '--target' : 'target', message: problem });
  }

  const seenRoutes = new Map<string, number>();
  const routes = raw.routes.map((route, index): RoutePolicy => {
    const id = `${route.method} ${route.path}`;
    const at = `routes[${index}]`;
    const earlier = seenRoutes.get(id);
    if (earlier !== undefined) issues.push({ path: at, message: `duplicates routes[${earlier}] (${id})` });
    seenRoutes.set(id, index);

    const credentialRef = (field: string, name: string | undefined): void => {
      if (name !== undefined && !(name in credentials)) {
        const known = Object.keys(credentials);
        issues.push({ path: `${at}.${field}`, message: `credential "${name}" is not defined under credentials${known.length ? ` (defined: ${known.join(', ')})` : ''}` });
      }
    };
    credentialRef('auth.credential', route.auth?.credential);
    credentialRef('throttle.credential', route.throttle?.credential);
    if (route.auth?.required && route.auth.credential === undefined) {
      issues.push({ path: `${at}.auth.credential`, message: 'is required when auth.required is true (the positive control needs a valid credential)' });
    }
    if (route.cors?.allowCredentials && route.cors.allowOrigins.includes('*')) {
      issues.push({ path: `${at}.cors.allowOrigins`, message: '"*" cannot be combined with allowCredentials: true (browsers reject it)' });
    }
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
      ...(route.auth ? { auth: { required: route.auth.required, ...(route.auth.credential !== undefined ? { credential: route.auth.credential } : {}), refuseStatus: route.auth.refuseStatus ?? DEFAULT_REFUSE_STATUS } } : {}),
      ...(route.throttle
        ? {
            throttle: {
              rateLimit: route.throttle.rateLimit,
              burstLimit: route.throttle.burstLimit,
              tolerance: route.throttle.tolerance ?? DEFAULT_THROTTLE_TOLERANCE,
              probeSeconds: route.throttle.probeSeconds ?? 2,
              ...(route.throttle.credential !== undefined ? { credential: route.throttle.credential } : {}),
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
      ...(route.waf ? { waf: { blockStatus: route.waf.blockStatus, minBlockRate: route.waf.minBlockRate ?? 1 } } : {}),
      ...(slo ? { slo: { ...slo, durationSec: slo.durationSec ?? 3 } } : {}),
    };
  });

  return {
    version: 1,
    ...(target !== undefined ? { target: target.replace(/\/+$/, '') } : {}),
    vendor: raw.vendor ?? 'aws-rest',
    limits: { ...DEFAULT_LIMITS, ...raw.limits },
    credentials,
    routes,
  };
}

function pathOf(segments: Array<string | number>): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}

/** Finds the line of `routes[0].throttle.rateLimit` in the source, walking up to the nearest node that exists. */
function withLine(issue: PolicyIssue, doc: Document, lineCounter: LineCounter): PolicyIssue {
  if (issue.line !== undefined || !issue.path || issue.path.startsWith('--')) return issue;
  const segments = [...issue.path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
  for (let n = segments.length; n > 0; n--) {
    const node = doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) return { ...issue, line: lineCounter.linePos(node.range[0]).line };
  }
  return issue;
}
