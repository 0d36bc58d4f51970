import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import type { PolicyIssue } from './errors.js';
import { formatPath } from './errors.js';

/** The published schema (policies/schema.json), the single source of truth for the policy's shape. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../policies/schema.json', import.meta.url));

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator(): ReturnType<Ajv['compile']> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object;
    // allErrors: report every problem at once, not just the first (autocannon's validation stops early).
    const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });
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

/** ajv's errors as issues with readable paths and messages, one per problem (also for gatecheck's other published schemas). */
export function issuesFromAjv(errors: ErrorObject[] | null | undefined): PolicyIssue[] {
  return dedupe((errors ?? []).filter(isUseful).map(toIssue));
}

function toIssue(error: ErrorObject): PolicyIssue {
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: formatPath(segments), message: `unknown key "${String(params.additionalProperty)}"` };
    case 'required':
      return { path: formatPath([...segments, String(params.missingProperty)]), message: 'is required' };
    case 'enum':
      return {
        path: formatPath(segments),
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path: formatPath(segments), message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { path: formatPath(segments), message: `has an invalid format (must match ${String(params.pattern)})` };
    case 'format':
      return {
        path: formatPath(segments),
        message: params.format === 'date' ? 'must be a date, YYYY-MM-DD' : `must be a ${String(params.format)}`,
      };
    case 'propertyNames':
      return { path: formatPath(segments), message: `has an invalid name "${String(params.propertyName)}"` };
    default:
      return { path: formatPath(segments), message: error.message ?? error.keyword };
  }
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
