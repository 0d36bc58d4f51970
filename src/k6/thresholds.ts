import type { MetricType } from './aggregate.js';

/**
 * k6 threshold expressions: `<aggregation> <operator> <number>`, e.g. `p(95)<500`,
 * `rate < 0.01`, `count>=100`. Aggregations: count, rate, value, avg, min, max, med, p(N).
 */
export interface ParsedThreshold {
  aggregation: string;
  operator: '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
  limit: number;
}

export function parseThreshold(expression: string): ParsedThreshold | undefined {
  const match =
    /^\s*(count|rate|value|avg|min|max|med|p\(\s*\d+(?:\.\d+)?\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$/.exec(
      expression,
    );
  if (!match) return undefined;
  return { aggregation: match[1]!.replace(/\s+/g, ''), operator: match[2] as ParsedThreshold['operator'], limit: Number(match[3]) };
}

/** Evaluates an expression against a statistic lookup; `ok` undefined when unparsable or no value. */
export function evaluateThreshold(expression: string, stat: (aggregation: string) => number | undefined): { ok?: boolean; value?: number } {
  const parsed = parseThreshold(expression);
  if (!parsed) return {};
  const value = stat(parsed.aggregation);
  if (value === undefined || Number.isNaN(value)) return {};
  return { ok: compare(value, parsed.operator, parsed.limit), value };
}

function compare(value: number, operator: ParsedThreshold['operator'], limit: number): boolean {
  switch (operator) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
    case '===':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

/** A counter's count and per-second rate grow with the load: a total, not a property of each share. */
export function isExtensive(type: MetricType, aggregation: string): boolean {
  return type === 'counter' && (aggregation === 'count' || aggregation === 'rate');
}
