import { markdownTable } from 'markdown-table';

/**
 * The Markdown building blocks every renderer shares: the key/value table (the default rendering
 * of a check's expected and observed data), and cells that stay one line and show HTML as text.
 */

/** Cells are not padded to the widest one: one long list would otherwise stretch every row of a table. */
export const TABLE_OPTIONS = { alignDelimiters: false } as const;

export function keyValueTable(values: Record<string, unknown>): string {
  const rows = Object.entries(values).map(([key, value]) => [key, formatValue(value)]);
  if (rows.length === 0) return '_nothing recorded_';
  return markdownTable([['Field', 'Value'], ...rows], TABLE_OPTIONS);
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return oneLine(value);
  if (Array.isArray(value)) {
    return value.length ? oneLine(value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')) : '(none)';
  }
  if (typeof value === 'object') return oneLine(JSON.stringify(value));
  return String(value);
}

/** Table cells are one line: pipes escaped, newlines folded. */
export function oneLine(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/**
 * Payloads (`<script>`), placeholders (`<credential main>`) and headers are shown, never
 * interpreted: a Markdown viewer would otherwise run or silently drop them as HTML.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
