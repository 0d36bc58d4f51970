import { markdownTable } from 'markdown-table';
import type { AuthObserved } from '../../checks/auth/check.js';
import type { CheckResult } from '../../checks/types.js';
import { keyValueTable, oneLine, TABLE_OPTIONS } from './table.js';

/**
 * The auth check's observations: the verdict's lists as the generic table shows them, then the
 * probes grouped by the answer they got (one cell of JSON is unreadable past a few probes; the
 * evidence below has each exchange in full).
 */
export function renderAuth(result: CheckResult): string[] {
  const { answers, ...lists } = result.observed as Partial<AuthObserved> & Record<string, unknown>;
  const lines = [keyValueTable(lists)];
  const byAnswer = new Map<string, string[]>();
  for (const [probe, answer] of Object.entries(answers ?? {})) byAnswer.set(answer, [...(byAnswer.get(answer) ?? []), probe]);
  if (byAnswer.size > 0) {
    const rows = [...byAnswer].map(([answer, probes]) => [oneLine(answer), oneLine(probes.join(', '))]);
    lines.push('', markdownTable([['Answer', 'Probes'], ...rows], TABLE_OPTIONS));
  }
  return lines;
}
