import { markdownTable } from 'markdown-table';
import type { EvidenceItem } from '../../checks/types.js';
import { inlineText } from './table.js';
import { oneLine, TABLE_OPTIONS } from './text.js';

/**
 * A check's evidence: the exchanges a finding cites, and those that went wrong, in a table that is
 * always open; the others (the ones that went as required) folded into `<details>`. Rows are numbered
 * as in report.json's `evidence[n]`; a row a finding cites has the anchor `<check anchor>-e<n>` it links to.
 */

/** Up to this many rows, a table of the exchanges that went as required stays open. */
const OPEN_ROWS = 3;
/** At most this many cited or failed exchanges are open; the others are folded with the rest. */
const OPEN_LIMIT = 10;

/**
 * Response headers that differ on every request (ids, dates): they tell a reviewer nothing and make
 * up a third of a table's bytes. report.json keeps them.
 */
const PER_REQUEST_HEADERS = new Set(['x-amzn-requestid', 'x-amz-apigw-id', 'x-amz-cf-id', 'x-request-id', 'date', 'x-amzn-trace-id']);

export interface EvidenceContext {
  /** The check's anchor: evidence rows are `<anchor>-e<n>`. */
  anchor: string;
  /** Evidence indexes the check's findings cite. */
  cited: ReadonlySet<number>;
  /** The run's target: URLs under it are shown as paths. */
  target: string;
}

export function evidenceAnchor(checkAnchor: string, index: number): string {
  return `${checkAnchor}-e${index}`;
}

export function evidenceLines(items: readonly EvidenceItem[], context: EvidenceContext): string[] {
  if (items.length === 0) return [];
  const indexed = items.map((item, index) => ({ item, index }));
  // Cited rows first, then what went wrong; at most OPEN_LIMIT of them open (a WAF that is off has a hundred violations).
  const wrong = (item: EvidenceItem) => item.outcome === 'violation' || item.outcome === 'unresolved';
  const candidates = [
    ...indexed.filter(({ index }) => context.cited.has(index)),
    ...indexed.filter(({ item, index }) => !context.cited.has(index) && wrong(item)),
  ];
  const open = candidates.slice(0, OPEN_LIMIT).sort((a, b) => a.index - b.index);
  const rest = indexed.filter((row) => !open.includes(row));
  // A few exchanges as required next to the cited ones: one table, in report.json's order.
  if (open.length === 0 || rest.length <= OPEN_ROWS) {
    if (open.length === 0 && rest.length > OPEN_ROWS) return ['**Evidence**', '', ...folded(`${rest.length} exchanges`, rest, context)];
    return ['**Evidence**', '', evidenceTable(indexed, context), ''];
  }
  return ['**Evidence**', '', evidenceTable(open, context), '', ...folded(`${rest.length} more exchanges`, rest, context)];
}

function folded(title: string, rows: Array<{ item: EvidenceItem; index: number }>, context: EvidenceContext): string[] {
  return ['<details>', `<summary>${title}</summary>`, '', evidenceTable(rows, context), '', '</details>', ''];
}

function evidenceTable(rows: Array<{ item: EvidenceItem; index: number }>, context: EvidenceContext): string {
  // A note the table already showed is referred to, not repeated: twenty refusals share two explanations.
  const firstWithNote = new Map<string, number>();
  return markdownTable(
    [
      ['#', 'Probe', 'Request', 'Answer', 'Headers seen', 'Outcome'],
      ...rows.map(({ item: e, index }) => {
        const seen = e.note !== undefined ? firstWithNote.get(e.note) : undefined;
        if (e.note !== undefined && seen === undefined) firstWithNote.set(e.note, index);
        const note = e.note === undefined ? '' : seen === undefined ? `: ${e.note}` : ` (as ${seen})`;
        // Only rows a finding links to carry an anchor: an id on every row would be a tenth of the table.
        const id = context.cited.has(index) ? `<a id="${evidenceAnchor(context.anchor, index)}"></a>` : '';
        return [
          `${id}${index}`,
          oneLine(e.label),
          oneLine(`${e.method} ${shortUrl(e.url ?? e.path, context.target)}${headerList(e.requestHeaders, ' ')}`),
          oneLine(answerText(e)),
          oneLine(headerList(withoutPerRequest(e.responseHeaders), '') || '—'),
          oneLine(`${e.outcome}${note}`),
        ];
      }),
    ],
    TABLE_OPTIONS,
  );
}

/** The status (or error), the latency, and the start of the body, a JSON body as `key: value` text. */
function answerText(e: EvidenceItem): string {
  const head = `${e.status ?? e.error ?? '—'}${e.latencyMs !== undefined ? ` (${e.latencyMs} ms)` : ''}`;
  return e.bodySnippet ? `${head} — ${bodyText(e.bodySnippet)}` : head;
}

/** A JSON body read as text ("message: Forbidden"); any other body as its first 80 characters. */
export function bodyText(snippet: string): string {
  const trimmed = snippet.trim();
  if (/^[[{]/.test(trimmed)) {
    try {
      return `${inlineText(JSON.parse(trimmed) as unknown).slice(0, 120)}`;
    } catch {
      // Cut short or not JSON after all: shown as it came, in a code span so it reads as quoted bytes.
      return `\`${trimmed.slice(0, 80).replace(/`/g, "'")}\``;
    }
  }
  return trimmed.slice(0, 80);
}

/** A URL under the run's target as its path (the report's header names the target once). */
function shortUrl(url: string, target: string): string {
  const base = target.replace(/\/$/, '');
  return base && url.startsWith(`${base}/`) ? url.slice(base.length) : url;
}

function withoutPerRequest(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_REQUEST_HEADERS.has(name.toLowerCase())));
}

function headerList(headers: Record<string, string>, lead: string): string {
  const entries = Object.entries(headers);
  return entries.length ? lead + entries.map(([k, v]) => `${k}: ${v}`).join('; ') : '';
}
