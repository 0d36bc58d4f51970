/** Small helpers shared by the benchmarks: medians of repeated runs, and plain-text tables. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function printTable(rows: Array<Array<string | number>>): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const row of rows) console.log(row.map((cell, c) => String(cell).padEnd(widths[c]!)).join('  '));
}

/** Number of repetitions: BENCH_RUNS=5 npm run bench:... for more. */
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);
