/** Text helpers every Markdown renderer shares. */

/** Cells are not padded to the widest one: one long list would otherwise stretch every row of a table. */
export const TABLE_OPTIONS = { alignDelimiters: false } as const;

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

/** A share as a percentage, `—` when there is none. */
export function percentCell(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 1 : 0)}%`;
}

/**
 * A list as Markdown: bullets when short, folded into a `<details>` block when long (a failing
 * WAF can list a hundred payloads). Items are escaped: they may quote payloads.
 */
export function listLines(title: string, items: readonly string[], foldAbove = 5): string[] {
  if (items.length === 0) return [];
  const bullets = items.map((item) => `- ${escapeHtml(item)}`);
  if (items.length <= foldAbove) return [`**${title}** (${items.length})`, '', ...bullets, ''];
  return ['<details>', `<summary><b>${escapeHtml(title)}</b> (${items.length})</summary>`, '', ...bullets, '', '</details>', ''];
}

/** One string per line (a table from markdownTable is several). */
export function toLines(blocks: readonly string[]): string[] {
  return blocks.flatMap((block) => block.split('\n'));
}
