import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PolicyError } from '../policy/errors.js';
import { parsePolicy, type Environment } from '../policy/load.js';
import type { Policy } from '../policy/types.js';

/**
 * Export and import need the policy's shape, not its secrets: the exported script reads each
 * credential from the environment at run time, and import only reads results. So the policy is
 * loaded with an environment in which an unset `${NAME}` stays `${NAME}` instead of being an
 * error. Values that are set are still substituted (the redactor needs them to scrub reports).
 */
export function lenientEnvironment(env: Environment): Environment {
  return new Proxy(
    {},
    {
      get: (_target, name) => (typeof name === 'string' ? env[name] || `\${${name}}` : undefined),
    },
  );
}

export interface LoadedPolicy {
  policy: Policy;
  /** The environment variable each credential's value comes from. */
  credentialEnv: Record<string, CredentialEnv>;
  /**
   * Each route's policy headers as written, `${NAME}` kept (route index → lower-cased name →
   * template): the script expands them from its own environment, so no value is copied into it.
   */
  headerTemplates: Array<Record<string, string> | undefined>;
}

export interface CredentialEnv {
  credential: string;
  envVar: string;
  /**
   * True when the policy's value was not exactly `${NAME}` (a literal, or text around the
   * variable): the export then invents a variable name rather than copy the value.
   */
  derived: boolean;
}

export function loadPolicyForK6(file: string, env: Environment, targetOverride?: string): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(file, [
      { path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` },
    ]);
  }
  const policy = parsePolicy(text, file, { env: lenientEnvironment(env), ...(targetOverride !== undefined ? { targetOverride } : {}) });
  return { policy, credentialEnv: credentialEnvVars(text, policy), headerTemplates: headerTemplates(text, policy) };
}

/** The routes' merged `headers` as written before substitution (same merge as src/policy/headers.ts). */
export function headerTemplates(policyText: string, policy: Policy): Array<Record<string, string> | undefined> {
  const raw = parse(policyText) as { headers?: Record<string, string>; routes?: Array<{ headers?: Record<string, string> }> };
  const lower = (h: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return policy.routes.map((route) =>
    route.headers ? { ...lower(raw.headers), ...lower(raw.routes?.[route.index]?.headers) } : undefined,
  );
}

/** The environment variables `${NAME}` header templates read, sorted. */
export function headerEnvVars(templates: Array<Record<string, string> | undefined>): string[] {
  const names = new Set<string>();
  for (const template of templates)
    for (const value of Object.values(template ?? {})) for (const m of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1]!);
  return [...names].sort();
}

/** Reads `credentials.NAME.value` as written (before substitution) to learn which variable holds it. */
export function credentialEnvVars(policyText: string, policy: Policy): Record<string, CredentialEnv> {
  const raw = parse(policyText) as { credentials?: Record<string, { value?: unknown }> };
  const out: Record<string, CredentialEnv> = {};
  for (const name of Object.keys(policy.credentials)) {
    const written = raw.credentials?.[name]?.value;
    const match = typeof written === 'string' ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(written) : null;
    out[name] = match
      ? { credential: name, envVar: match[1]!, derived: false }
      : { credential: name, envVar: `GATECHECK_CREDENTIAL_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`, derived: true };
  }
  return out;
}
