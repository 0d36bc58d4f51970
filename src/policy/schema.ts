import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import type { PolicyIssue } from './errors.js';
import { formatPath } from './errors.js';
import { nearMiss } from './near-miss.js';

/** The published schema (policies/schema.json), the single source of truth for the policy's shape. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../policies/schema.json', import.meta.url));

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator(): ReturnType<Ajv['compile']> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object;
    // allErrors: report every problem at once, not just the first (autocannon's validation stops early).
    // verbose: each error carries the value and its schema, so a message can say "did you mean" or show an example.
    const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false, verbose: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** Validates a parsed document; returns every issue with a readable path and message. */
export function schemaIssues(document: unknown): PolicyIssue[] {
  const validate = validator();
  if (validate(document)) return [];
  return issuesFromAjv(validate.errors);
}

/**
 * ajv's errors as issues with readable paths and messages, one per problem (also for gatecheck's
 * other published schemas). A misspelt key gives one issue, "unknown key … did you mean …", not
 * that plus "… is required" for the key it was meant to be.
 */
export function issuesFromAjv(errors: ErrorObject[] | null | undefined): PolicyIssue[] {
  const useful = (errors ?? []).filter(isUseful);
  const meant = new Set<string>();
  const issues = useful.map((error) => {
    const issue = toIssue(error);
    if (issue.meant !== undefined) meant.add(issue.meant);
    return { path: issue.path, message: issue.message };
  });
  return dedupe(issues.filter((issue) => !(issue.message === 'is required' && meant.has(issue.path))));
}

/** One issue, and for a misspelt key the path of the key it stands for. */
type Mapped = PolicyIssue & { meant?: string };

function toIssue(error: ErrorObject): Mapped {
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  const path = formatPath(segments);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return unknownKey(segments, String(params.additionalProperty), error.parentSchema);
    case 'required':
      return { path: formatPath([...segments, String(params.missingProperty)]), message: 'is required' };
    case 'enum':
      return { path, message: enumMessage(params.allowedValues as unknown[], error.data) };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'type':
      return { path, message: typeMessage(String(params.type), error.data, error.parentSchema) };
    case 'pattern':
      return { path, message: patternMessage(String(params.pattern), error.data) };
    case 'minItems':
      return { path, message: params.limit === 1 ? 'must list at least one item' : `must list at least ${String(params.limit)} items` };
    case 'minLength':
      return { path, message: params.limit === 1 ? 'must not be empty' : (error.message ?? 'is too short') };
    case 'uniqueItems':
      return { path, message: uniqueMessage(params, error.data) };
    case 'format':
      return { path, message: params.format === 'date' ? 'must be a date, YYYY-MM-DD' : `must be a ${String(params.format)}` };
    case 'propertyNames':
      return { path, message: `has an invalid name "${String(params.propertyName)}"` };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

/** An unknown key: the allowed key it most likely stands for, or the keys allowed there. */
function unknownKey(segments: string[], key: string, parentSchema: unknown): Mapped {
  // Named by the key's own path, so the line given is the key's.
  const path = formatPath([...segments, key]);
  const allowed = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {}).filter((k) => k !== '$schema');
  const meant = nearMiss(key, allowed);
  if (meant !== undefined) return { path, message: `unknown key: did you mean \`${meant}\`?`, meant: formatPath([...segments, meant]) };
  const list = allowed.length > 0 && allowed.length <= 15 ? ` (allowed here: ${allowed.join(', ')})` : '';
  return { path, message: `unknown key${list}` };
}

function enumMessage(allowed: unknown[], data: unknown): string {
  const list = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  const meant = typeof data === 'string' ? nearMiss(data, allowed.map(String)) : undefined;
  return meant !== undefined ? `${list}: did you mean "${meant}"?` : list;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  string: 'text (a string)',
  null: 'null',
};

/**
 * "must be a list, e.g. [GET, POST]" for `allowMethods: GET, POST`. The value is echoed only
 * into a list example, and list fields hold no secrets (credentials are never lists).
 */
function typeMessage(type: string, data: unknown, parentSchema: unknown): string {
  if (type === 'array') {
    const scalar = typeof data === 'string' || typeof data === 'number' ? String(data).trim() : '';
    const items = scalar.split(/\s*,\s*|\s+/).filter(Boolean);
    return items.length > 0 && scalar.length <= 80
      ? `must be a list, e.g. [${items.join(', ')}]`
      : 'must be a list: [a, b] or one "- item" per line';
  }
  if (type === 'object') {
    const keys = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const some = keys.length > 3 ? [...keys.slice(0, 3), '…'] : keys;
    const given = Array.isArray(data) ? 'a list' : 'a single value';
    return `must be a block of settings${some.length ? ` (${some.join(', ')})` : ''}, not ${given}`;
  }
  return `must be ${type
    .split(',')
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(' or ')}`;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** schema.json's httpMethod: the methods in any case (JSON Schema has no case-insensitive flag), upper-cased by load.ts. */
const METHOD_PATTERN = `^(?:${HTTP_METHODS.map((m) => [...m].map((c) => `[${c}${c.toLowerCase()}]`).join('')).join('|')})$`;

/**
 * The schema's patterns, each said as a rule a person can follow. A pattern not listed here
 * (one added later) still gets a message, the regular expression itself. The values quoted
 * are paths, origins and header names: never secrets.
 */
function patternMessage(pattern: string, data: unknown): string {
  const value = typeof data === 'string' ? data : '';
  switch (pattern) {
    case '^/':
      return `must start with / (e.g. "/${value.replace(/^\/*/, '') || 'api/items'}")`;
    case '^(\\*|null|https?://[^/?#\\s]+)$':
      return originMessage(value);
    case "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$":
      return `must be a header name: letters, digits and -, no spaces or colons (got "${value}")`;
    case '^[A-Za-z][A-Za-z0-9-]*$':
      return `must be one word such as Bearer (got "${value}")`;
    case '^[a-z]{2}(-[a-z]+)+-[0-9]+$':
      return `must be an AWS Region name such as eu-west-1 (got "${value}")`;
    case '^https?://':
      return `must be an http:// or https:// URL (got "${value}")`;
    case '^[a-z0-9]{10}$':
      return `must be an API id: 10 lower-case letters and digits, e.g. a1b2c3d4e5 (got "${value}")`;
    case METHOD_PATTERN: {
      const meant = nearMiss(value, HTTP_METHODS);
      const hint = meant !== undefined ? `: did you mean ${meant}?` : '';
      return `must be ${HTTP_METHODS.slice(0, -1).join(', ')} or OPTIONS (any case), got "${value}"${hint}`;
    }
    default:
      return `has an invalid format (must match ${pattern})`;
  }
}

/** CORS origins are scheme://host[:port]: what the browser sends in Origin, never a path. */
function originMessage(value: string): string {
  const url = /^(https?:\/\/[^/?#\s]+)([/?#].*)$/.exec(value);
  if (url) {
    const fix = url[2] === '/' ? 'drop the trailing /' : `drop "${url[2]}"`;
    return `an origin has no path: ${fix} ("${url[1]}")`;
  }
  return `must be scheme://host[:port], "*" or "null" (got "${value}")`;
}

function uniqueMessage(params: Record<string, unknown>, data: unknown): string {
  const item: unknown = Array.isArray(data) && typeof params.i === 'number' ? data[params.i] : undefined;
  return item === undefined ? 'must not list an item twice' : `lists ${JSON.stringify(item)} twice`;
}

// A failed propertyNames check also reports the inner pattern error on the same path; keep one.
function isUseful(error: ErrorObject): boolean {
  // An `if` failing says only that its then/else failed, whose own errors name the field.
  return !(error.keyword === 'pattern' && error.propertyName !== undefined) && error.keyword !== 'if';
}

function dedupe(issues: PolicyIssue[]): PolicyIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
