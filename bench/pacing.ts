/**
 * Pacing accuracy of gatecheck's paced open-model engine against nginx `return 200` on
 * loopback, at 1k, 5k and 10k requests/s: achieved/target rate (target: within 1%) and the
 * worst per-100 ms window count against rate·0.1 s (target: within 5%). Medians of BENCH_RUNS.
 *
 *   npm run bench:pacing
 */
import { runLadder } from '../src/bench/ladder.js';
import { RunBudget } from '../src/engine/budget.js';
import { HttpClient } from '../src/engine/http-client.js';
import { startNginxTarget } from './nginx-target.js';
import { median, printTable, RUNS } from './stats.js';

const RATES = (process.env.BENCH_RATES ?? '1000,5000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const target = await startNginxTarget({ workers: 1 });
const rows: Array<Array<string | number>> = [
  [
    'target/s',
    'achieved/target (median)',
    'worst 100 ms window (median)',
    'p50 ms',
    'p99 ms',
    'max send lag ms',
    'dropped',
    'runs (achieved/s)',
  ],
];
try {
  for (const rate of RATES) {
    const results = [];
    for (let run = 0; run < RUNS; run++) {
      const client = new HttpClient({ baseUrl: target.url, requestTimeoutMs: 5000 });
      const budget = new RunBudget(10_000_000, client.now() + 600_000, () => client.now());
      const [step] = await runLadder(
        client,
        budget,
        [{ kind: 'rate', name: `${rate}/s`, fromRatePerSec: rate, toRatePerSec: rate, durationSec: SECONDS, arrivals: 'constant' }],
        { probe: 'bench', method: 'GET', path: '/' },
        () => {},
      );
      await client.close();
      results.push(step!);
    }
    rows.push([
      rate,
      (median(results.map((r) => r.achievedRatePerSec)) / rate).toFixed(4),
      `±${(median(results.map((r) => r.worstWindowDeviation)) * 100).toFixed(1)}%`,
      median(results.map((r) => r.latencyMs.p50 ?? NaN)).toFixed(2),
      median(results.map((r) => r.latencyMs.p99 ?? NaN)).toFixed(2),
      median(results.map((r) => r.maxSendLagMs)).toFixed(1),
      median(results.map((r) => r.dropped)),
      results.map((r) => r.achievedRatePerSec.toFixed(0)).join(' / '),
    ]);
    console.error(`${rate}/s done`);
  }
} finally {
  await target.stop();
}
console.log(`\nPacing accuracy, nginx return 200 on loopback, ${SECONDS} s per rate, median of ${RUNS} runs`);
printTable(rows);
