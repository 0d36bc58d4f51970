/**
 * Saturating throughput on one loopback nginx `return 200`, measured in the same run:
 * wrk -t2 -c50 (the reference), plain autocannon (c50, one thread), and `gatecheck bench
 * --saturate` with each of its engines: autocannon with 2 worker threads, and gatecheck's raw
 * socket saturator in 2 and 1 threads. Prints medians of BENCH_RUNS runs and each one's ratio
 * to wrk.
 *
 *   npm run build && npm run bench:saturate
 */
import { execFileSync, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';
import { runSaturate } from '../src/bench/saturate.js';
import type { runRawSaturate as RunRawSaturate } from '../src/bench/raw-saturator.js';

// The raw saturator's worker threads load its compiled file (tsx does not reach into workers): `npm run build` first.
const { runRawSaturate } = (await import(new URL('../dist/bench/raw-saturator.js', import.meta.url).href)) as {
  runRawSaturate: typeof RunRawSaturate;
};
import { startNginxTarget } from './nginx-target.js';
import { median, printTable, RUNS } from './stats.js';

const DURATION_SEC = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

function wrk(url: string): number {
  const out = execFileSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${DURATION_SEC}s`, url], { encoding: 'utf8' });
  const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!match) throw new Error(`cannot read wrk output:\n${out}`);
  return Number(match[1]);
}

async function plainAutocannon(url: string): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_SEC });
  return result.requests.total / result.duration;
}

async function gatecheckSaturate(url: string, workers: number): Promise<number> {
  const result = await runSaturate({
    url,
    method: 'GET',
    headers: {},
    connections: CONNECTIONS,
    durationSec: DURATION_SEC,
    workers,
    pipelining: 1,
    maxRequests: 50_000_000,
  });
  return result.requestsPerSec;
}

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
const target = await startNginxTarget({ workers: 1 });
const url = `${target.url}/`;
const figures: Record<string, number[]> = {
  wrk: [],
  'autocannon (plain)': [],
  'gatecheck --saturate (autocannon, workers 2)': [],
  'gatecheck --saturate --saturate-engine raw (2 threads)': [],
  'gatecheck --saturate --saturate-engine raw (1 thread)': [],
};
try {
  for (let run = 0; run < RUNS; run++) {
    figures.wrk!.push(wrk(url));
    figures['autocannon (plain)']!.push(await plainAutocannon(url));
    figures['gatecheck --saturate (autocannon, workers 2)']!.push(await gatecheckSaturate(url, 2));
    for (const threads of [2, 1]) {
      const options = { url, method: 'GET', headers: {}, connections: CONNECTIONS, durationSec: DURATION_SEC, pipelining: 1 };
      const raw = await runRawSaturate({ ...options, threads, maxRequests: 50_000_000 });
      figures[`gatecheck --saturate --saturate-engine raw (${threads} thread${threads > 1 ? 's' : ''})`]!.push(raw.total / raw.durationSec);
    }
    console.error(`run ${run + 1}/${RUNS} done`);
  }
} finally {
  await target.stop();
}
const wrkMedian = median(figures.wrk!);
console.log(`\nSaturating throughput, nginx return 200 on loopback, ${CONNECTIONS} connections, ${DURATION_SEC} s, median of ${RUNS} runs`);
printTable([
  ['engine', 'median req/s', 'runs', 'ratio to wrk'],
  ...Object.entries(figures).map(([name, values]) => [
    name,
    median(values).toFixed(0),
    values.map((v) => v.toFixed(0)).join(' / '),
    (median(values) / wrkMedian).toFixed(2),
  ]),
]);
