import { markdownTable } from 'markdown-table';
import type { CheckResult } from '../../checks/types.js';
import { formatValue, oneLine, TABLE_OPTIONS } from './table.js';

/**
 * `run --drift`: the three sides of a check in one table: what the policy says, what AWS is
 * configured to enforce (and where that was read), what was measured. Nothing when the run had
 * no --drift or the check's kind is not compared.
 */
export function configuredLines(check: CheckResult): string[] {
  const rows = check.configured;
  if (!rows || rows.length === 0) return [];
  const cells = rows.map((r) => [
    oneLine(r.field),
    formatValue(r.policy),
    r.unreadable !== undefined ? `not read (${oneLine(r.unreadable)})` : r.configured === null ? 'not set' : formatValue(r.configured),
    r.measured === undefined ? '' : formatValue(r.measured),
    oneLine(r.source),
  ]);
  return [
    '**Policy · configured (AWS) · measured**',
    '',
    markdownTable([['Field', 'Policy', 'Configured', 'Measured', 'Read from'], ...cells], TABLE_OPTIONS),
    '',
  ];
}
