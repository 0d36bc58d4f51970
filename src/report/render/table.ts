/**
 * Markdown building blocks every renderer shares: cells are one line and never read as HTML, and no
 * value is ever printed as JSON. A nested object is a sentence ("sent: 32, accepted: 20"), a table of
 * records is a table, and what is too long for a cell goes into a `<details>` block under the table.
 */
import { markdownTable } from 'markdown-table';
import { escapeHtml, oneLine, TABLE_OPTIONS } from './text.js';

export { escapeHtml, oneLine, TABLE_OPTIONS } from './text.js';

/** A cell longer than this (or a list of more items) is shown under the table instead. */
const CELL_MAX_CHARS = 200;
const CELL_MAX_ITEMS = 24;
/** A sub-table or list of more rows than this is folded into `<details>`. */
const FOLD_ABOVE_ROWS = 10;

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A `Field | Value` table of a result's data: the report's default for what a check expected and
 * observed. Records (an object of objects, or a list of objects) become a table of their own under
 * it; long lists and long sentences a list under it, folded when long.
 */
export function keyValueTable(values: Record<string, unknown>): string {
  const rows: string[][] = [];
  const below: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const block = blockOf(key, value);
    if (block) {
      rows.push([key, oneLine(block.cell)]);
      below.push('', ...block.lines);
    } else rows.push([key, formatValue(value)]);
  }
  if (rows.length === 0) return '_nothing recorded_';
  return [markdownTable([['Field', 'Value'], ...rows], TABLE_OPTIONS), ...below].join('\n');
}

/** A value too big for a cell: what the cell says, and the lines shown under the table. */
function blockOf(key: string, value: unknown): { cell: string; lines: string[] } | undefined {
  const records = recordRows(value);
  if (records) return { cell: `${records.length} rows, table below`, lines: recordsTable(key, records) };
  const items = listItems(value);
  if (items && (items.length > CELL_MAX_ITEMS || items.join(', ').length > CELL_MAX_CHARS)) {
    return { cell: `${items.length} items, listed below`, lines: foldedList(key, items) };
  }
  return undefined;
}

/** `[name, record]` pairs of an object whose values are all objects, or of a list of objects. */
function recordRows(value: unknown): Array<[string, Plain]> | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every(isPlainObject)) return undefined;
    return value.map((item, i) => [String(i + 1), item]);
  }
  if (!isPlainObject(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length < 2 || !entries.every(([, v]) => isPlainObject(v))) return undefined;
  return entries as Array<[string, Plain]>;
}

function recordsTable(key: string, records: Array<[string, Plain]>): string[] {
  const columns = [...new Set(records.flatMap(([, record]) => Object.keys(record)))];
  const rows = records.map(([name, record]) => [oneLine(name), ...columns.map((c) => formatValue(record[c]))]);
  const table = markdownTable([[oneLine(key), ...columns.map(oneLine)], ...rows], TABLE_OPTIONS);
  return fold(`${key} (${records.length})`, [table], records.length);
}

/** The items of a list or of an object too long for a cell, one sentence each. */
function listItems(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(inlineText);
  if (isPlainObject(value)) {
    const text = inlineText(value);
    return text.length > CELL_MAX_CHARS ? Object.entries(value).map(([k, v]) => `${k}: ${inlineText(v)}`) : undefined;
  }
  return undefined;
}

function foldedList(key: string, items: string[]): string[] {
  return fold(
    `${key} (${items.length})`,
    items.map((item) => `- ${escapeHtml(item).replace(/\r?\n/g, ' ')}`),
    items.length,
  );
}

/** Lines under a bold title, or in a `<details>` block when there are many. */
function fold(title: string, lines: string[], count: number): string[] {
  if (count <= FOLD_ABOVE_ROWS) return [`**${escapeHtml(title)}**`, '', ...lines];
  return ['<details>', `<summary>${escapeHtml(title)}</summary>`, '', ...lines, '', '</details>'];
}

/** A value as one table cell: escaped, one line, and never JSON. */
export function formatValue(value: unknown): string {
  return oneLine(inlineText(value));
}

/**
 * A value as plain text (not yet escaped): lists joined with commas, objects as `key: value`
 * pairs, a nested object or list of objects in parentheses, numbers rounded for reading
 * (report.json keeps them exact).
 */
export function inlineText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (Array.isArray(value)) return value.length ? value.map(nested).join(', ') : '(none)';
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    return entries.length ? entries.map(([k, v]) => `${k}: ${nested(v)}`).join(', ') : '(none)';
  }
  // What is left: a boolean, bigint, symbol or function, each with its own toString (the one String() calls).
  return (value as boolean | bigint | symbol | ((...args: never[]) => unknown)).toString();
}

function nested(value: unknown): string {
  const text = inlineText(value);
  return isPlainObject(value) && Object.keys(value).length > 0 ? `(${text})` : text;
}

/** Integers as they are; others to two decimals, or three significant digits below 0.01. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return String(abs >= 0.01 ? Number(value.toFixed(2)) : Number(value.toPrecision(3)));
}
