/**
 * Peak RSS of a long paced run: 1M and then 2M requests against nginx `return 200` at
 * BENCH_RATE (default 20k/s). Each size runs in a fresh child process so the peaks do not
 * mix; flat memory means the 2M peak is close to the 1M peak.
 *
 *   npm run bench:memory
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runLadder } from '../src/bench/ladder.js';
import { RunBudget } from '../src/engine/budget.js';
import { HttpClient } from '../src/engine/http-client.js';
import { startNginxTarget } from './nginx-target.js';
import { printTable } from './stats.js';

const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const SIZES = (process.env.BENCH_SIZES ?? '1000000,2000000').split(',').map(Number);

if (process.argv[2] === '--child') {
  const requests = Number(process.argv[3]);
  const target = await startNginxTarget({ workers: 1 });
  const client = new HttpClient({ baseUrl: target.url, requestTimeoutMs: 5000 });
  const budget = new RunBudget(requests, client.now() + 3_600_000, () => client.now());
  const started = Date.now();
  const [step] = await runLadder(
    client,
    budget,
    [{ kind: 'rate', name: 'soak', fromRatePerSec: RATE, toRatePerSec: RATE, durationSec: requests / RATE, arrivals: 'constant' }],
    { probe: 'bench', method: 'GET', path: '/' },
    () => {},
  );
  await client.close();
  await target.stop();
  console.log(
    JSON.stringify({
      requests,
      sent: step!.sent,
      seconds: (Date.now() - started) / 1000,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      achievedRatePerSec: step!.achievedRatePerSec,
      p99Ms: step!.latencyMs.p99,
    }),
  );
} else {
  const self = fileURLToPath(import.meta.url);
  const rows: Array<Array<string | number>> = [['requests', 'sent', 'seconds', 'peak RSS MiB', 'achieved/s', 'p99 ms']];
  const peaks: number[] = [];
  for (const size of SIZES) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', String(size)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      requests: number;
      sent: number;
      seconds: number;
      maxRssMiB: number;
      achievedRatePerSec: number;
      p99Ms: number;
    };
    peaks.push(result.maxRssMiB);
    rows.push([
      result.requests,
      result.sent,
      result.seconds.toFixed(1),
      result.maxRssMiB.toFixed(1),
      result.achievedRatePerSec.toFixed(0),
      result.p99Ms.toFixed(2),
    ]);
  }
  console.log(`\nPeak RSS of paced runs at ${RATE}/s against nginx return 200 (fresh process per size)`);
  printTable(rows);
  if (peaks.length > 1)
    console.log(`ratio of peak RSS, ${SIZES.at(-1)} vs ${SIZES[0]} requests: ${(peaks.at(-1)! / peaks[0]!).toFixed(2)}`);
}
