import { RunBudget } from '../engine/budget.js';
import { DEFAULT_HEADERS, mergeHeaders } from '../engine/client-headers.js';
import { HttpClient, type TlsTrust } from '../engine/http-client.js';
import { phaseRequestCount, type ResolvedPhase } from '../scenarios/scenario.js';
import { runLadder } from './ladder.js';
import type { BenchReport } from './report.js';
import { MAX_FAILED_CONNECTS, runRawSaturate, type RawSaturateResult } from './raw-saturator.js';
import { requestCapReason, runSaturate, type SaturateResult } from './saturate.js';

export type BenchMode =
  | { kind: 'ladder'; phases: ResolvedPhase[]; scenario?: string }
  | { kind: 'saturate'; engine: 'raw' | 'autocannon'; connections: number; workers: number; pipelining: number; durationSec: number };

export interface BenchOptions {
  target: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  mode: BenchMode;
  maxRequests: number;
  maxDurationSec: number;
  requestTimeoutMs: number;
  /** --ca or --insecure: the ladder and the raw saturator (autocannon never verifies certificates). */
  tls?: TlsTrust;
  progress: (line: string) => void;
  version: string;
}

/** Why this plan would break the run's caps, or undefined. Checked before any traffic. */
export function benchPlanProblem(options: Pick<BenchOptions, 'mode' | 'maxRequests' | 'maxDurationSec'>): string | undefined {
  const { mode } = options;
  if (mode.kind === 'saturate') {
    return mode.durationSec > options.maxDurationSec
      ? `--duration ${mode.durationSec} s exceeds the time cap of ${options.maxDurationSec} s`
      : undefined;
  }
  const requests = mode.phases.reduce((n, p) => n + phaseRequestCount(p), 0);
  const seconds = mode.phases.reduce((n, p) => n + (p.kind === 'rate' ? p.durationSec : 0), 0);
  if (requests > options.maxRequests)
    return `the plan schedules ${requests} requests, above the cap of ${options.maxRequests} (raise --max-requests)`;
  if (seconds > options.maxDurationSec)
    return `the plan lasts ${seconds} s, above the cap of ${options.maxDurationSec} s (raise --max-duration)`;
  return undefined;
}

/** Why a raw saturation stopped before its duration, or undefined when it ran all of it. */
function rawStopReason(raw: RawSaturateResult, maxRequests: number): string | undefined {
  switch (raw.stoppedBy) {
    case 'duration':
      return undefined;
    case 'max-requests':
      return requestCapReason(maxRequests);
    case 'connect-failures':
      return `every connection closed ${MAX_FAILED_CONNECTS} times in a row without an answer (last error: ${raw.lastError ?? 'none'})`;
  }
}

export async function runBench(given: BenchOptions): Promise<BenchReport> {
  // Every engine (ladder, raw sockets, autocannon) sends gatecheck's User-Agent unless the caller set one.
  const options = { ...given, headers: mergeHeaders(DEFAULT_HEADERS, given.headers) };
  const startedAt = new Date().toISOString();
  const base = { startedAt, target: options.target, method: options.method, path: options.path, gatecheckVersion: options.version };
  if (options.mode.kind === 'saturate') {
    const mode = options.mode;
    options.progress(`bench: saturating with ${mode.engine}, ${mode.connections} connections for ${mode.durationSec} s`);
    const url = options.target.replace(/\/+$/, '') + options.path;
    if (mode.engine === 'raw') {
      const raw = await runRawSaturate({
        url,
        method: options.method,
        headers: options.headers,
        tls: options.tls,
        connections: mode.connections,
        durationSec: mode.durationSec,
        threads: mode.workers,
        pipelining: mode.pipelining,
        maxRequests: options.maxRequests,
      });
      const reason = rawStopReason(raw, options.maxRequests);
      const pipelining = mode.pipelining > 1 ? `, pipelining ${mode.pipelining}` : '';
      const saturation: SaturateResult = {
        engine: `gatecheck raw sockets, ${mode.connections} connections, ${Math.max(1, mode.workers)} thread(s)${pipelining}`,
        requestsPerSec: raw.total / raw.durationSec,
        total: raw.total,
        durationSec: raw.durationSec,
        statusCounts: raw.statusCounts,
        errors: raw.errors,
        timeouts: 0,
        reconnects: raw.reconnects,
        unanswered: raw.unanswered,
        ...(reason ? { shortRun: { askedSec: mode.durationSec, ranSec: raw.durationSec, reason } } : {}),
        latencyMs: raw.latencyMs,
      };
      return { ...base, mode: 'saturate', steps: [], saturation };
    }
    const saturation = await runSaturate({
      url,
      method: options.method,
      headers: options.headers,
      connections: mode.connections,
      durationSec: mode.durationSec,
      workers: mode.workers,
      pipelining: mode.pipelining,
      maxRequests: options.maxRequests,
    });
    return { ...base, mode: 'saturate', steps: [], saturation };
  }
  const client = new HttpClient({ baseUrl: options.target, requestTimeoutMs: options.requestTimeoutMs, tls: options.tls });
  const budget = new RunBudget(options.maxRequests, client.now() + options.maxDurationSec * 1000, () => client.now());
  try {
    const steps = await runLadder(
      client,
      budget,
      options.mode.phases,
      { probe: 'bench', method: options.method, path: options.path, headers: options.headers },
      options.progress,
    );
    return { ...base, mode: 'rates', ...(options.mode.scenario ? { scenario: options.mode.scenario } : {}), steps };
  } finally {
    await client.close();
  }
}
