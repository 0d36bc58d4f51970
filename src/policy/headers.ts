import type { PolicyIssue } from './errors.js';
import type { Credential, Policy, PolicyHeaders } from './types.js';

/**
 * The policy's `headers:` (top level and per route). The schema checks the names are HTTP tokens;
 * here: names are lower-cased, a route's headers are merged over the top-level ones, values that
 * came from `${NAME}` are kept as secrets for the redactor, and headers gatecheck cannot honour
 * are refused with the reason.
 */

/** Headers the HTTP client writes itself (framing, connection management): a policy value would break the exchange. */
const CLIENT_OWNED = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);

interface HeaderSource {
  headers?: Record<string, string>;
  routes: Array<{ headers?: Record<string, string> }>;
}

/**
 * Sets `policy.headers`, each route's merged `headers` and `policy.headerSecrets`. `source` is the
 * policy before `${NAME}` substitution (to tell which values came from the environment),
 * `interpolated` the same after it.
 */
export function applyPolicyHeaders(policy: Policy, source: HeaderSource, interpolated: HeaderSource, issues: PolicyIssue[]): void {
  const secrets: Array<{ name: string; value: string }> = [];
  const resolveAt = (at: string, raw: Record<string, string> | undefined, values: Record<string, string> | undefined) => {
    if (!values) return undefined;
    const out: PolicyHeaders = {};
    for (const [name, value] of Object.entries(values)) {
      const lower = name.toLowerCase();
      const problem = headerProblem(lower, policy.credentials);
      if (problem) issues.push({ path: `${at}.${name}`, message: problem });
      if (lower in out)
        issues.push({ path: `${at}.${name}`, message: `names the same header as another entry (header names ignore case)` });
      out[lower] = value;
      if (/\$\{[A-Za-z_]/.test(raw?.[name] ?? '')) secrets.push({ name: lower, value });
    }
    return out;
  };
  const global = resolveAt('headers', source.headers, interpolated.headers);
  if (global) policy.headers = global;
  policy.routes.forEach((route, i) => {
    const own = resolveAt(`routes[${i}].headers`, source.routes[i]?.headers, interpolated.routes[i]?.headers);
    if (global || own) route.headers = { ...global, ...own };
  });
  if (secrets.length) policy.headerSecrets = secrets;
}

function headerProblem(name: string, credentials: Record<string, Credential>): string | undefined {
  if (CLIENT_OWNED.has(name)) return `"${name}" is written by the HTTP client itself (it frames the request): drop it`;
  const credential = Object.values(credentials).find((c) => c.header === name);
  if (credential)
    return `"${name}" is the header of credential "${credential.name}": put it under credentials (the auth check leaves it out)`;
  return undefined;
}
