import autocannon from 'autocannon';

export interface SaturateOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  connections: number;
  durationSec: number;
  /** Worker threads (autocannon `workers`); 0 runs in this thread. */
  workers: number;
  pipelining: number;
  /** Hard request cap (autocannon `amount`). */
  maxRequests: number;
}

export interface SaturateResult {
  engine: string;
  requestsPerSec: number;
  total: number;
  durationSec: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Connections opened to replace one the server closed (raw engine). */
  reconnects?: number;
  /** Requests written on a connection that closed without answering them (raw engine). */
  unanswered?: number;
  /** Present when the load stopped before the duration asked for, with the reason. */
  shortRun?: ShortRun;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

export interface ShortRun {
  askedSec: number;
  ranSec: number;
  reason: string;
}

/** Why a run stopped short when the request cap stopped it. */
export const requestCapReason = (maxRequests: number) => `the request cap of ${maxRequests} was reached (raise --max-requests)`;

/** Shorter than this below the duration asked for is a short run: well above a timer's lateness. */
const SHORT_RUN_SLACK_SEC = 0.05;

/**
 * Closed-model saturation with autocannon: N connections, each sending its next request as
 * soon as the last one is answered. This finds the maximum throughput; it is NOT a measurement
 * of a rate limit (autocannon's own rate option sends each second's quota at once, issue #174).
 */
export async function runSaturate(options: SaturateOptions): Promise<SaturateResult> {
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        method: options.method as autocannon.Request['method'],
        headers: options.headers,
        connections: options.connections,
        // In one thread both bounds hold without a per-response listener (which would cost a third
        // of the throughput): `amount` caps the requests and a timer stops the run at the duration.
        // Worker threads cannot be stopped from here, so there the duration alone bounds the run.
        ...(options.workers > 0 ? { duration: options.durationSec } : { amount: options.maxRequests }),
        pipelining: options.pipelining,
        ...(options.workers > 0 ? { workers: options.workers } : {}),
      },
      (error, result) => (error ? reject(error as Error) : resolve(result)),
    );
  });
  const timer = setTimeout(() => options.workers === 0 && instance.stop(), options.durationSec * 1000);
  const result = await finished.finally(() => clearTimeout(timer));
  const statusCounts: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = stat.count ?? 0;
  const total = result.requests.total;
  // Only the request cap (`amount`, in one thread) ends an autocannon run before its timer.
  const short = result.duration < options.durationSec - SHORT_RUN_SLACK_SEC;
  const reason = total >= options.maxRequests ? requestCapReason(options.maxRequests) : 'autocannon ended early';
  return {
    engine:
      `autocannon ${options.connections} connections` +
      `${options.workers ? `, ${options.workers} workers` : ''}` +
      `${options.pipelining > 1 ? `, pipelining ${options.pipelining}` : ''}`,
    requestsPerSec: total / result.duration,
    total,
    durationSec: result.duration,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    ...(short ? { shortRun: { askedSec: options.durationSec, ranSec: result.duration, reason } } : {}),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  };
}
