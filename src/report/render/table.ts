/** Markdown building blocks every renderer shares: cells are one line and never read as HTML. */
import { markdownTable } from 'markdown-table';
import { oneLine, TABLE_OPTIONS } from './text.js';

export { escapeHtml, oneLine, TABLE_OPTIONS } from './text.js';

/** A `Field | Value` table of a result's data: the report's default for what a check expected and observed. */
export function keyValueTable(values: Record<string, unknown>): string {
  const rows = Object.entries(values).map(([key, value]) => [key, formatValue(value)]);
  if (rows.length === 0) return '_nothing recorded_';
  return markdownTable([['Field', 'Value'], ...rows], TABLE_OPTIONS);
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return oneLine(value);
  if (Array.isArray(value))
    return value.length ? oneLine(value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')) : '(none)';
  if (typeof value === 'object') return oneLine(JSON.stringify(value));
  // What typeof leaves: a number, boolean, bigint, symbol or function, each with its own toString (the one String() calls).
  return (value as number | boolean | bigint | symbol | ((...args: never[]) => unknown)).toString();
}
