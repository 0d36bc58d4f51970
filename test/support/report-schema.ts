/**
 * The published shapes of gatecheck's reports, as validators for tests: report.json against
 * schemas/report.schema.json, report.sarif against the official SARIF 2.1.0 schema (draft-04,
 * test/fixtures/sarif/). Compiled once per test file, on first use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
// Both are CommonJS: under NodeNext the default import is module.exports, whose `default` is the export itself.
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const REPORT_SCHEMA_PATH = join(REPO, 'schemas', 'report.schema.json');
export const SARIF_SCHEMA_PATH = join(REPO, 'test', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json');

let reportValidator: ValidateFunction | undefined;
let sarifValidator: ValidateFunction | undefined;

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every problem with a report.json document, as `/path: message` lines; empty when it is valid. */
export function reportSchemaErrors(report: unknown): string[] {
  reportValidator ??= compile(new Ajv({ allErrors: true, strict: true }), readJson(REPORT_SCHEMA_PATH));
  return errorsOf(reportValidator, report);
}

/** Every problem with a report.sarif document against SARIF 2.1.0; empty when it is valid. */
export function sarifSchemaErrors(sarif: unknown): string[] {
  // Not strict: the OASIS schema has keywords and unions strict mode rejects; the formats (uri, date-time) are checked.
  sarifValidator ??= compile(new ajvDraft04.default({ allErrors: true, strict: false }), readJson(SARIF_SCHEMA_PATH));
  return errorsOf(sarifValidator, sarif);
}

/** Throws with every problem listed, so a test that wrote an invalid report fails and says why. */
export function assertValidReports(files: { json?: unknown; sarif?: unknown }, where: string): void {
  const problems = [
    ...(files.json === undefined ? [] : reportSchemaErrors(files.json).map((e) => `report.json ${e}`)),
    ...(files.sarif === undefined ? [] : sarifSchemaErrors(files.sarif).map((e) => `report.sarif ${e}`)),
  ];
  if (problems.length > 0) throw new Error(`${where}: the reports do not match their schemas:\n  ${problems.join('\n  ')}`);
}

function compile(ajv: Ajv | InstanceType<typeof ajvDraft04.default>, schema: unknown): ValidateFunction {
  ajvFormats.default(ajv);
  return ajv.compile(schema as object);
}

function errorsOf(validate: ValidateFunction, document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}
