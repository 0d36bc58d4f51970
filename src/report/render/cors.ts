import type { CorsObserved } from '../../checks/cors/check.js';
import type { CheckResult } from '../../checks/types.js';
import { escapeHtml, keyValueTable } from './table.js';

/**
 * The CORS check's observations: counts and origins in the generic table; violations and
 * unanswered exchanges (whole sentences, often several) as lists under it.
 */
export function renderCors(result: CheckResult): string[] {
  const { violations, unresolved, ...rest } = result.observed as Partial<CorsObserved> & Record<string, unknown>;
  const lines = [
    keyValueTable({
      ...rest,
      ...(violations ? { violations: violations.length } : {}),
      ...(unresolved ? { unresolved: unresolved.length } : {}),
    }),
  ];
  for (const [title, items] of [
    ['Violations', violations],
    ['Unresolved', unresolved],
  ] as const) {
    if (items?.length) lines.push('', `**${title}**`, '', ...items.map((item) => `- ${escapeHtml(item).replace(/\r?\n/g, ' ')}`));
  }
  return lines;
}
