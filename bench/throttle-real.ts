/**
 * bench/throttle-models.ts --real: identification against every real limiter preset (test/support/limiters),
 * each preset started once and probed `runs` times with a fresh API key per run. Prints one row per preset
 * (medians over the runs, accuracy k/N) and, for every run that missed, what it identified and why.
 */
import os from 'node:os';
import {
  identifyAndJudge,
  keptSchedule,
  policyFor,
  probeLimiter,
  truthBurst,
  type Judged,
  type RealRun,
} from '../test/support/identify-real.js';
import {
  LIMITER_PRESETS,
  limiterAvailable,
  startLimiter,
  type LimiterPresetName,
  type LimiterTruth,
} from '../test/support/limiters/index.js';
import { median, printTable } from './stats.js';

interface RunResult {
  run: RealRun;
  judged: Judged;
  kept: { kept: boolean; why: string };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function truthText(truth: LimiterTruth): string {
  const window = truth.windowSec !== undefined ? ` w${truth.windowSec}s` : '';
  const lockout = truth.lockoutSec !== undefined ? ` lockout ${truth.lockoutSec}s` : '';
  const counts = truth.countsRejected ? ' counts refused' : '';
  return `${truth.algorithm} ${truth.ratePerSec}/s b${truthBurst(truth)}${window}${lockout}${counts}`;
}

/** The identified algorithm most runs agreed on, with how many. */
function commonest(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const [value, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  return count === values.length ? value : `${value} (${count}/${values.length})`;
}

function identifiedWindow(j: Judged): string {
  const p = (j.fit ?? j.id.best).params;
  const parts = [
    p.windowSec !== undefined ? `w${fmt(p.windowSec, 2)}s` : '',
    p.lockoutSec !== undefined ? `lock ${fmt(p.lockoutSec, 2)}s` : '',
    p.countsRejected ? 'counts refused' : '',
    p.delay !== undefined ? `delay=${p.delay}` : '',
    p.fillIntervalMs !== undefined ? `fill ${p.tokensPerFill}/${p.fillIntervalMs}ms ${p.alignment}` : '',
  ].filter(Boolean);
  return parts.join(' ') || '-';
}

export async function runRealBench(runs: number, only: string[]): Promise<void> {
  const presets = (Object.keys(LIMITER_PRESETS) as LimiterPresetName[]).filter(
    (name) => only.length === 0 || only.some((o) => name.includes(o)),
  );
  const load = os.loadavg();
  console.log(`real limiters, ${runs} run(s) each; load average ${load.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores\n`);
  const rows: Array<Array<string | number>> = [
    [
      'limiter/setting',
      'refusal',
      'truth',
      'identified',
      'rate /s (err)',
      'burst (err)',
      'window etc.',
      'residual/bound',
      'ok',
      'requests',
      'traffic s',
      'CPU ms',
      'schedule kept',
    ],
  ];
  const misses: string[] = [];
  let correct = 0;
  let total = 0;
  for (const preset of presets) {
    const spec = LIMITER_PRESETS[preset];
    if (!limiterAvailable(spec.limiter)) {
      rows.push([preset, '-', 'not installed', '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const limiter = await startLimiter(spec, preset);
    const results: RunResult[] = [];
    try {
      const hints = policyFor(limiter.truth);
      for (let i = 0; i < runs; i++) {
        const run = await probeLimiter(limiter.url, hints, limiter.truth.status);
        results.push({ run, judged: identifyAndJudge(run, hints, limiter.truth), kept: keptSchedule(run, hints) });
      }
    } finally {
      await limiter.stop();
    }
    const { truth } = limiter;
    const ok = results.filter((r) => r.judged.ok).length;
    correct += ok;
    total += results.length;
    const params = results.map((r) => (r.judged.fit ?? r.judged.id.best).params);
    const rateErr = median(results.map((r) => r.judged.rateError * 100));
    const burstErr = median(results.map((r) => r.judged.burstError));
    const statuses = [...new Set(results.flatMap((r) => Object.keys(r.run.refusalStatuses)))].join(',') || '-';
    const others = results.reduce((sum, r) => sum + r.run.other, 0);
    rows.push([
      preset,
      `${statuses}${others ? ` (+${others} other)` : ''}`,
      truthText(truth),
      commonest(results.map((r) => `${r.judged.id.algorithm}${r.judged.id.ambiguous ? '?' : ''}`)),
      `${fmt(median(params.map((p) => p.ratePerSec)))} (${rateErr >= 0 ? '+' : ''}${fmt(rateErr)}%)`,
      `${median(params.map((p) => p.burst))} (${burstErr >= 0 ? '+' : ''}${burstErr})`,
      commonest(results.map((r) => identifiedWindow(r.judged))),
      `${median(results.map((r) => r.judged.id.residual))}/${fmt(median(results.map((r) => r.judged.id.residualBound)))}`,
      `${ok}/${results.length}`,
      median(results.map((r) => r.run.observations.length + r.run.other)),
      fmt(median(results.map((r) => r.run.trafficMs / 1000))),
      fmt(median(results.map((r) => r.judged.cpuMs)), 0),
      `${results.filter((r) => r.kept.kept).length}/${results.length}`,
    ]);
    results.forEach((r, i) => {
      if (r.judged.ok && r.kept.kept) return;
      const { id } = r.judged;
      const p = id.best.params;
      const range = p.rateRangePerSec ? ` [${p.rateRangePerSec.map((x) => fmt(x, 2)).join('..')}]` : '';
      const cold = p.coldBurst !== undefined ? ` cold ${p.coldBurst}` : '';
      misses.push(
        [
          `${preset} run ${i + 1}: ${r.judged.ok ? 'ok' : 'MISS'} — identified ${id.algorithm}${id.ambiguous ? ' (ambiguous)' : ''} ` +
            `${p.variant}: rate ${fmt(p.ratePerSec, 2)}${range} burst ${p.burst}${cold} ${identifiedWindow(r.judged)}, ` +
            `residual ${id.residual}/${fmt(id.residualBound)}`,
          `  accepted ${r.run.accepted}, refused ${r.run.refused}, other ${r.run.other}; ${r.kept.why}`,
          ...id.evidence.slice(0, 4).map((e) => `  ${e}`),
          `  best wrong in: ${JSON.stringify(id.best.wrongIn)}`,
        ].join('\n'),
      );
    });
  }
  printTable(rows);
  console.log(`\n${correct}/${total} identified (algorithm right, rate ±5%, burst/limit ±2 or 5%)`);
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (misses.length) console.log(`\n${misses.join('\n')}`);
}
