/**
 * Estimation accuracy of the throttle check against real nginx `limit_req` with `nodelay`: a
 * leaky bucket that admits burst+1 requests at once for a key it has never seen, but `burst`
 * for a known key that went idle (its excess counter is charged before the comparison), then
 * `rate` per second. The throttle check warms its sockets up first, so the key is known: the
 * true bucket it must measure is `burst`.
 * 50 r/s burst=20 and 500 r/s burst=100. The check's own plan is used (volley + 2 s paced
 * probe, under 5 s of traffic per route); the figures are the measured rate and bucket size
 * against nginx's true values (rate, burst+1). Medians of BENCH_RUNS runs.
 *
 *   npm run bench:estimation
 */
import type { CheckContext } from '../src/checks/context.js';
import { throttleCheck, type BucketObserved } from '../src/checks/throttle/check.js';
import { RunBudget } from '../src/engine/budget.js';
import { HttpClient } from '../src/engine/http-client.js';
import type { Observation } from '../src/engine/observation.js';
import { ObservationStream } from '../src/engine/stream.js';
import { parsePolicy } from '../src/policy/load.js';
import { Redactor } from '../src/util/redact.js';
import { startNginxTarget } from './nginx-target.js';
import { median, printTable, RUNS } from './stats.js';

const CASES = [
  { rate: 50, burst: 20 },
  { rate: 500, burst: 100 },
];

const rows: Array<Array<string | number>> = [
  [
    'nginx limit_req',
    'true bucket',
    'rate (median)',
    'rate error',
    'bucket (median)',
    'bucket error',
    'verdicts',
    'traffic s',
    'runs (rate / bucket)',
  ],
];
for (const c of CASES) {
  const bucket = c.burst; // a known, idle key: see the comment at the top
  const target = await startNginxTarget({
    workers: 1,
    httpExtra: `limit_req_zone $binary_remote_addr zone=bench:1m rate=${c.rate}r/s; limit_req_status 429;`,
    limitedLocation: `limit_req zone=bench burst=${c.burst} nodelay;`,
  });
  const policy = parsePolicy(
    'version: 1\nlimits: { maxRequests: 100000, maxDurationSec: 120 }\nroutes:\n  - method: GET\n    path: /limited\n' +
      `    throttle: { rateLimit: ${c.rate}, burstLimit: ${bucket}, tolerance: 0.1 }\n`,
    'estimation.yaml',
    { env: {}, targetOverride: target.url },
  );
  const rates: number[] = [];
  const bursts: number[] = [];
  const verdicts: string[] = [];
  const trafficSec: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      // The check's collect and pure evaluate, as the runner calls them: the stream hands over the observations.
      const stream = new ObservationStream();
      const observations: Observation[] = [];
      stream.subscribe((o) => observations.push(o));
      const client = new HttpClient({ baseUrl: target.url, requestTimeoutMs: 5000, stream });
      const ctx: CheckContext = {
        policy,
        client,
        budget: new RunBudget(100000, client.now() + 120_000, () => client.now()),
        redactor: new Redactor(),
        progress: () => {},
      };
      const { spec } = throttleCheck.select(policy)[0]!;
      const notes = await throttleCheck.collect(ctx, spec);
      await client.close();
      const result = throttleCheck.evaluate(spec, { observations, notes }, policy);
      if (process.env.BENCH_DEBUG) console.error(result.status, result.summary);
      const observed = result.observed as BucketObserved;
      rates.push(observed.ratePerSec ?? NaN);
      bursts.push(observed.burst ?? NaN);
      verdicts.push(result.status);
      trafficSec.push(observed.paced.durationMs / 1000);
    }
  } finally {
    await target.stop();
  }
  const rate = median(rates);
  const burst = median(bursts);
  rows.push([
    `rate=${c.rate}r/s burst=${c.burst} nodelay`,
    `${c.rate}/s, ${bucket}`,
    rate.toFixed(2),
    `${(((rate - c.rate) / c.rate) * 100).toFixed(2)}%`,
    burst.toFixed(1),
    (burst - bucket).toFixed(1),
    verdicts.join(','),
    median(trafficSec).toFixed(1),
    rates.map((r, i) => `${r.toFixed(1)}/${bursts[i]!.toFixed(1)}`).join(' '),
  ]);
  console.error(`${c.rate} r/s done`);
}
console.log(`\nThrottle estimation against nginx limit_req on loopback, median of ${RUNS} runs`);
printTable(rows);
