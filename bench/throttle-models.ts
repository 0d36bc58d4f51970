/**
 * Identification accuracy and cost, per limiter: the probe schedule (≤ 10 s of traffic) sent to each limiter,
 * the algorithm identified by replay and match, and its parameters against the limiter's configured truth.
 *
 * Two modes. Synthetic (default): each limiter's model behind a jittery network (0.1–5 ms each way, 1% of
 * requests stalled 50 ms), models against themselves. Real (`--real`): every preset of the real limiters in
 * test/support/limiters (nginx, HAProxy, express-rate-limit, @fastify/rate-limit, vsthrottle, Redis), started
 * here on loopback; the probe is designed from the policy a user would write (the truth's nominal rate and
 * burst), sent through the engine with a fresh API key per run, and identified (bench/throttle-real.ts).
 *
 *   npx tsx bench/throttle-models.ts            (BENCH_RUNS=20 for more seeds; default 10 here)
 *   BENCH_RUNS=3 npx tsx bench/throttle-models.ts --real   (BENCH_LIMITERS=nginx,redis to pick presets)
 */
import { identify } from '../src/checks/throttle/identify/identify.js';
import type { ProbeSchedule } from '../src/checks/throttle/identify/probe.js';
import type { ObservedRequest } from '../src/checks/throttle/identify/score.js';
import { fitFor, KNOWN_LIMITERS, observeSynthetic, syntheticRun, withinTolerance, type KnownLimiter } from '../test/support/limiter-sim.js';
import { median, printTable } from './stats.js';
import { runRealBench } from './throttle-real.js';

/** A limiter to identify: its configured truth and a way to send it the schedule. */
interface LimiterTarget {
  truth: KnownLimiter;
  observe(schedule: ProbeSchedule, run: number): Promise<ObservedRequest[]>;
}

if (process.argv.includes('--real')) {
  await runRealBench(Number(process.env.BENCH_RUNS ?? 3), process.env.BENCH_LIMITERS?.split(',') ?? []);
  process.exit(0);
}

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const targets: LimiterTarget[] = KNOWN_LIMITERS.map((truth) => ({
  truth,
  observe: (schedule, run) => Promise.resolve(observeSynthetic(truth.spec, schedule, run)),
}));

const rows: Array<Array<string | number>> = [
  [
    'limiter (synthetic)',
    'identified',
    'rate err median / max',
    'burst err max',
    'residual median',
    'requests',
    'traffic s',
    'CPU ms median / max',
  ],
];
let correct = 0;
let total = 0;
for (const target of targets) {
  const rateErrors: number[] = [];
  const burstErrors: number[] = [];
  const residuals: number[] = [];
  const cpu: number[] = [];
  let identified = 0;
  let requests = 0;
  let trafficMs = 0;
  for (let run = 1; run <= RUNS; run++) {
    const { schedule } = syntheticRun(target.truth, run);
    const observations = await target.observe(schedule, run);
    const before = process.cpuUsage();
    const id = identify(observations, target.truth.hints);
    cpu.push(process.cpuUsage(before).user / 1000);
    const fit = fitFor(id, target.truth.algorithm);
    const tolerance = fit && withinTolerance(fit, target.truth);
    if (tolerance?.ok) identified++;
    if (tolerance) {
      rateErrors.push(Math.abs(tolerance.rateError) * 100);
      burstErrors.push(Math.abs(tolerance.burstError));
    }
    residuals.push(id.residual);
    requests = observations.length;
    trafficMs = schedule.durationMs;
  }
  correct += identified;
  total += RUNS;
  rows.push([
    target.truth.name,
    `${identified}/${RUNS} ${target.truth.algorithm}`,
    rateErrors.length
      ? `${median(rateErrors).toFixed(1)}% / ${Math.max(...rateErrors).toFixed(1)}%${target.truth.rateHidden ? ' (hidden)' : ''}`
      : '-',
    burstErrors.length ? Math.max(...burstErrors) : '-',
    median(residuals),
    requests,
    (trafficMs / 1000).toFixed(1),
    `${median(cpu).toFixed(0)} / ${Math.max(...cpu).toFixed(0)}`,
  ]);
}
printTable(rows);
console.log(`\n${correct}/${total} identified with rate ±5% and burst ±2 (or 5%)`);
