/**
 * The `--accept FILE` of run, judge and import k6: findings a team has accepted as known risks, each
 * with a reason and an expiry date (schemas/accept.schema.json). Read and validated once, before any
 * traffic; the gate (gate.ts) then lists the covered findings without letting them gate.
 *
 *     accepted:
 *       - id: "cors:GET /api/items#no-cors-on-error:403"
 *         reason: the SPA treats a network error as "log in again" (TICKET-123)
 *         expires: 2027-03-31
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
// CommonJS: under NodeNext the default import is module.exports, whose `default` is the plugin.
import ajvFormats from 'ajv-formats';
import { LineCounter, parseDocument } from 'yaml';
import { formatPath, type PolicyIssue } from '../policy/errors.js';
import { withLine } from '../policy/load.js';
import { issuesFromAjv } from '../policy/schema.js';
import type { AcceptEntry } from './gate.js';

/** The published schema of the file. */
export const ACCEPT_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/accept.schema.json', import.meta.url));

/** A file that is not a valid accept file: every problem, each with its field and line. The CLI exits 2. */
export class AcceptFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: PolicyIssue[],
  ) {
    super(
      issues
        .map((issue) => `${file}${issue.line ? `:${issue.line}` : ''}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`)
        .join('\n'),
    );
    this.name = 'AcceptFileError';
  }
}

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator(): ReturnType<Ajv['compile']> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    // `format: date` is a calendar date (2027-02-30 is refused), not just its shape.
    ajvFormats.default(ajv, ['date']);
    compiled = ajv.compile(JSON.parse(readFileSync(ACCEPT_SCHEMA_PATH, 'utf8')) as object);
  }
  return compiled;
}

/** Reads and validates an accept file; throws AcceptFileError naming every bad field. */
export function loadAcceptFile(file: string, label = file): AcceptEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AcceptFileError(label, [{ path: '', message: `cannot read the file (${why})` }]);
  }
  return parseAcceptFile(text, label);
}

/** Same as loadAcceptFile for text in memory (YAML or JSON). */
export function parseAcceptFile(text: string, label: string): AcceptEntry[] {
  const lineCounter = new LineCounter();
  // YAML 1.2 (the default): `expires: 2027-03-31` stays the string it reads as, never a timestamp.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => ({
      path: '',
      message: `not valid YAML/JSON: ${error.message.split('\n')[0]}`,
      line: lineCounter.linePos(error.pos[0]).line,
    }));
    throw new AcceptFileError(label, issues);
  }
  const raw: unknown = doc.toJS();
  const validate = validator();
  const issues = validate(raw) ? duplicateIds((raw as { accepted: AcceptEntry[] }).accepted) : issuesFromAjv(validate.errors);
  if (issues.length > 0)
    throw new AcceptFileError(
      label,
      issues.map((issue) => withLine(issue, doc, lineCounter)),
    );
  return (raw as { accepted: AcceptEntry[] }).accepted.map(({ id, reason, expires }) => ({ id, reason, expires }));
}

/** An id listed twice would leave one reason and date unused, silently. */
function duplicateIds(entries: readonly AcceptEntry[]): PolicyIssue[] {
  const first = new Map<string, number>();
  const issues: PolicyIssue[] = [];
  entries.forEach((entry, index) => {
    const earlier = first.get(entry.id);
    if (earlier === undefined) first.set(entry.id, index);
    else issues.push({ path: formatPath(['accepted', index, 'id']), message: `"${entry.id}" is already accepted by accepted[${earlier}]` });
  });
  return issues;
}
