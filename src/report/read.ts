import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
// CommonJS: under NodeNext the default import is module.exports, whose `default` is the plugin itself.
import ajvFormats from 'ajv-formats';
import type { FindingsSource } from '../gate/diff.js';
import { REPORT_SCHEMA_VERSION, type RunReport } from './model.js';

/**
 * Reading a report.json back (`gatecheck diff`, `run --baseline`): validated against the published
 * schema (schemas/report.schema.json), so a file that is not a gatecheck report is said to be one
 * plainly instead of being half-read.
 */

export const REPORT_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/report.schema.json', import.meta.url));

/**
 * The versions this gatecheck reads. 1.0 came before findings: its checks may carry none, and it has no gate.
 * 1.1 is today's shape without 1.2's optional additions (the drift block, each check's configured column).
 */
export const READABLE_REPORT_VERSIONS = ['1.0', '1.1', REPORT_SCHEMA_VERSION] as const;

/** A report read from a file: schemaVersion 1.0 reports are read as they are (no gate, findings possibly absent). */
export type ReadReport = FindingsSource &
  Pick<RunReport, 'verdict' | 'target' | 'policyFile' | 'finishedAt'> & {
    schemaVersion: (typeof READABLE_REPORT_VERSIONS)[number];
    gate?: RunReport['gate'];
  };

/** A file that cannot be read as a report; the message names the file and says what is wrong. */
export class ReportFileError extends Error {}

const validators = new Map<string, ValidateFunction>();

/** Reads, parses and validates `path` (as the user gave it: `label`). Throws ReportFileError. Synchronous: it runs before any traffic. */
export function readReportFile(path: string, label = path): ReadReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReportFileError(`cannot read ${label} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReportFileError(`${label} is not JSON (${(error as Error).message}); give a report.json that gatecheck wrote`);
  }
  return parseReport(document, label);
}

/** A parsed document as a report, or a ReportFileError naming `label` and every schema problem (the first few). */
export function parseReport(document: unknown, label: string): ReadReport {
  const version = (document as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof document !== 'object' || document === null || Array.isArray(document) || version === undefined)
    throw new ReportFileError(`${label} is not a gatecheck report.json (it has no schemaVersion)`);
  if (!(READABLE_REPORT_VERSIONS as readonly unknown[]).includes(version)) {
    const readable = READABLE_REPORT_VERSIONS.join(', ');
    throw new ReportFileError(
      `${label} has schemaVersion ${JSON.stringify(version)}; this gatecheck reads ${readable} (a newer report needs a newer gatecheck)`,
    );
  }
  const readable = version as ReadReport['schemaVersion'];
  const validate = validatorFor(readable);
  if (!validate(document)) {
    const problems = (validate.errors ?? []).map(describe);
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
    throw new ReportFileError(`${label} is not a valid gatecheck report.json (schemaVersion ${readable}): ${shown}`);
  }
  return document as ReadReport;
}

function validatorFor(version: ReadReport['schemaVersion']): ValidateFunction {
  let validate = validators.get(version);
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajvFormats.default(ajv);
    const schema = version === '1.0' ? version10Schema(currentSchema()) : currentSchema();
    // 1.1 differs from today's only by fields it may not carry: today's shape with its own version.
    if (version === '1.1') (schema as { properties: Record<string, unknown> }).properties.schemaVersion = { const: '1.1' };
    validate = ajv.compile(schema);
    validators.set(version, validate);
  }
  return validate;
}

function currentSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

/**
 * The 1.0 shape, derived from today's: 1.x only adds fields, and 1.1 made two of them required (the gate,
 * each check's findings). So a 1.0 report is today's shape with schemaVersion 1.0 and those two optional.
 */
function version10Schema(schema: Record<string, unknown>): Record<string, unknown> {
  type Node = { required?: string[]; properties?: Record<string, unknown> };
  // Each version compiles in its own Ajv instance, so both keep the schema's $id.
  const copy = structuredClone(schema) as Node & { definitions: { check: Node } };
  copy.properties = { ...copy.properties, schemaVersion: { const: '1.0' } };
  copy.required = copy.required?.filter((key) => key !== 'gate');
  copy.definitions.check.required = copy.definitions.check.required?.filter((key) => key !== 'findings');
  return copy;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties')
    return `${where}: unknown key "${String((error.params as { additionalProperty: unknown }).additionalProperty)}"`;
  if (error.keyword === 'required')
    return `${where}: "${String((error.params as { missingProperty: unknown }).missingProperty)}" is required`;
  return `${where}: ${error.message ?? error.keyword}`;
}
