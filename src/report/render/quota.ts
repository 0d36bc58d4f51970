import { markdownTable } from 'markdown-table';
import type { QuotaObserved } from '../../checks/quota/check.js';
import type { CheckResult } from '../../checks/types.js';
import { formatValue, keyValueTable } from './table.js';
import { TABLE_OPTIONS, toLines } from './text.js';

/** The quota section: what was accepted before the first refusal, next to the limit. */
export function renderQuota(result: CheckResult): string[] {
  const o = result.observed as unknown as QuotaObserved;
  const limit = result.expected.limit;
  const tolerance = result.expected.tolerance;
  const { accepted: _a, refusedAfter: _r, unresolved: _u, throttleRetries: _t, ...other } = result.observed;
  return toLines([
    markdownTable(
      [
        ['Limit', 'Tolerance', 'Accepted', 'First refusal after', 'Unresolved', 'Throttle 429s retried'],
        [
          formatValue(limit),
          formatValue(tolerance ?? 0),
          String(o.accepted),
          o.refusedAfter === null ? 'none' : `${o.refusedAfter} accepted`,
          String(o.unresolved),
          String(o.throttleRetries),
        ],
      ],
      TABLE_OPTIONS,
    ),
    // Fields a newer quota check adds: shown, never dropped.
    ...(Object.keys(other).length > 0 ? ['', keyValueTable(other)] : []),
  ]);
}
