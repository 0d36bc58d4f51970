/**
 * A closed-model HTTP/1.1 saturator on raw sockets, one per worker thread: the request is
 * serialised once into a Buffer and written again as soon as an answer is complete (with
 * pipelining, `pipelining` requests stay in flight per connection); answers are framed by
 * response-framer.ts and counted by status. This is what wrk does in C, and what autocannon does
 * with a full parser per response: here parsing stops at the status line and the framing headers,
 * so one thread keeps up with a fast gateway.
 *
 * A connection the server closes (nginx's `keepalive_requests`, a `Connection: close` answer, a
 * reset) is opened again at once, so the concurrency asked for holds for the whole duration; the
 * request cap is one counter shared by every thread, so it holds across them.
 *
 * Chosen over a library because no maintained npm package exposes such a loop; autocannon stays
 * the engine for `--saturate --saturate-engine autocannon`, and the benchmark compares both with wrk.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build, type Histogram } from 'hdr-histogram-js';
import { FramingError, ResponseFramer, serialiseRequest } from './response-framer.js';
import { tlsConnectOptions, type TlsTrust } from '../engine/http-client.js';

export interface RawSaturateOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  connections: number;
  durationSec: number;
  threads: number;
  /** Requests in flight per connection: 1 sends the next when the last is answered. */
  pipelining: number;
  /** Hard cap on requests written, across every thread. */
  maxRequests: number;
  /** --ca or --insecure for an https:// target. */
  tls?: TlsTrust;
}

/**
 * Why the load stopped: the duration ran out, the request cap was used up, or every connection
 * failed `MAX_FAILED_CONNECTS` times in a row without an answer.
 */
export type RawStop = 'duration' | 'max-requests' | 'connect-failures';

export interface RawSaturateResult {
  total: number;
  /** From the start of the load to its stop: the duration asked, unless `stoppedBy` says otherwise. */
  durationSec: number;
  stoppedBy: RawStop;
  statusCounts: Record<string, number>;
  /** Socket errors (refused, reset...) and answers that could not be framed. */
  errors: number;
  /** Connections opened to replace one that closed (keepalive_requests, `Connection: close`, an error). */
  reconnects: number;
  /** Requests written on a connection that closed without answering them (not in `total`). */
  unanswered: number;
  /** The last socket error or framing problem, e.g. "ECONNREFUSED". */
  lastError?: string;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** A connection that closed this many times in a row without an answer gives up: the target is down. */
export const MAX_FAILED_CONNECTS = 5;
/** Wait before the n-th reconnect of a connection that got no answer: 20, 40, 80, 160 ms. */
const backoffMs = (failures: number) => 10 * 2 ** failures;

/** One thread's share of the run; `budget` is the shared request cap (a BigInt64Array of one). */
interface ThreadPlan {
  options: RawSaturateOptions;
  connections: number;
  budget: SharedArrayBuffer;
}

interface ThreadResult {
  total: number;
  statusCounts: Record<string, number>;
  errors: number;
  reconnects: number;
  unanswered: number;
  stoppedBy: RawStop;
  /** Date.now() when this thread's load stopped: the threads share one clock. */
  stoppedAt: number;
  lastError?: string;
  /** Latency histogram (µs), encoded for merging across threads. */
  histogram: string;
}

/** What every connection of a thread shares: the request, the budget and the counts. */
interface ThreadRun {
  url: URL;
  port: number;
  /** For an https:// URL: --ca or --insecure as socket options (built once per thread). */
  tls: ReturnType<typeof tlsConnectOptions> | undefined;
  method: string;
  /** `pipelining` copies of the serialised request back to back; `size` bytes each. */
  requests: Buffer;
  size: number;
  pipelining: number;
  budget: BigInt64Array;
  sockets: Set<Socket>;
  stopping: boolean;
  counts: Counts;
}

interface Counts {
  total: number;
  /** Counted in a typed array indexed by status: no string keys on the hot path. */
  byStatus: Uint32Array;
  histogram: Histogram;
  errors: number;
  reconnects: number;
  unanswered: number;
  lastError?: string;
}

type SlotEnd = 'stopped' | 'max-requests' | 'connect-failures';

const newHistogram = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

/** Takes up to `n` requests from the shared budget and returns how many it got; never more than the budget held. */
function take(budget: BigInt64Array, n: number): number {
  const before = Number(Atomics.sub(budget, 0, BigInt(n)));
  const granted = Math.max(0, Math.min(n, before));
  if (granted < n) Atomics.add(budget, 0, BigInt(n - granted));
  return granted;
}

/** Gives back requests that were written but that the server said it would not read (RFC 9112 §9.6). */
function refund(budget: BigInt64Array, n: number): void {
  if (n > 0) Atomics.add(budget, 0, BigInt(n));
}

function countError(counts: Counts, error: unknown): void {
  counts.errors++;
  const code = (error as NodeJS.ErrnoException).code;
  counts.lastError = error instanceof FramingError ? `unframeable answer: ${error.message}` : (code ?? String(error));
}

/**
 * One of the thread's connections, kept busy until the run stops: opened again at once when the
 * server closes it after an answer, and after a growing wait when it closes without one (refused,
 * reset). Resolves with why it ended.
 */
function runSlot(run: ThreadRun): Promise<SlotEnd> {
  return new Promise((resolve) => {
    let failures = 0;
    const open = (replacing: boolean) => {
      if (run.stopping) return resolve('stopped');
      if (replacing) run.counts.reconnects++;
      connection(run, (end, answered) => {
        if (end !== 'closed') return resolve(end);
        failures = answered ? 0 : failures + 1;
        if (failures >= MAX_FAILED_CONNECTS) return resolve('connect-failures');
        if (failures === 0) return open(true);
        setTimeout(() => open(true), backoffMs(failures)).unref();
      });
    };
    open(false);
  });
}

/**
 * One socket: writes `pipelining` requests, then one per answer, matching answers to send times in
 * order. Calls `ended` once when it closes: 'closed' (by the server or an error; `answered` says
 * whether it got any answer), 'max-requests' when the budget ran out, 'stopped' at the deadline.
 */
function connection(run: ThreadRun, ended: (end: SlotEnd | 'closed', answered: boolean) => void): void {
  const host = run.url.hostname;
  const socket = run.tls ? tlsConnect({ host, port: run.port, servername: host, ...run.tls }) : connect({ host, port: run.port });
  socket.setNoDelay(true);
  run.sockets.add(socket);
  const { counts } = run;
  // Send times of the requests in flight, oldest first: a ring, since answers come back in order.
  const sentAt = new Float64Array(run.pipelining);
  let oldest = 0;
  let inFlight = 0;
  let answered = false;
  // 'closing': the server said it reads no more (in-flight requests refunded); 'capped': the budget is spent.
  let state: 'open' | 'closing' | 'capped' = 'open';
  const send = (n: number): number => {
    const granted = take(run.budget, n);
    const now = performance.now();
    for (let i = 0; i < granted; i++) sentAt[(oldest + inFlight + i) % run.pipelining] = now;
    inFlight += granted;
    if (granted > 0) socket.write(run.requests.subarray(0, granted * run.size));
    return granted;
  };
  const capped = () => {
    state = 'capped';
    if (inFlight === 0) socket.destroy();
  };
  const framer = new ResponseFramer((status, close) => {
    if (state === 'closing') return;
    if (inFlight === 0) {
      countError(counts, new FramingError(`a ${status} answer to no request`));
      return void socket.destroy();
    }
    counts.total++;
    counts.byStatus[status]!++;
    counts.histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt[oldest]!) * 1000)));
    oldest = (oldest + 1) % run.pipelining;
    inFlight--;
    answered = true;
    if (close) {
      state = 'closing';
      refund(run.budget, inFlight);
      inFlight = 0;
      socket.destroy();
    } else if (state === 'capped') {
      if (inFlight === 0) socket.destroy();
    } else if (!run.stopping && send(1) === 0) capped();
  }, run.method);
  socket.on(run.tls ? 'secureConnect' : 'connect', () => {
    if (send(run.pipelining) === 0) capped();
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk);
    } catch (error) {
      countError(counts, error);
      socket.destroy();
    }
  });
  socket.on('error', (error) => countError(counts, error));
  socket.on('close', () => {
    run.sockets.delete(socket);
    if (run.stopping) return ended('stopped', answered);
    // An answer whose body runs to the close is complete now; any other request in flight went unanswered.
    if (state !== 'closing') framer.end();
    counts.unanswered += inFlight;
    ended(state === 'capped' ? 'max-requests' : 'closed', answered);
  });
}

/**
 * One thread's load: `plan.connections` slots until `deadline` (Date.now() time, given by `start`
 * once every thread is ready) or until all of them end early.
 */
async function saturateThread(plan: ThreadPlan, start: () => Promise<number>): Promise<ThreadResult> {
  const { options } = plan;
  const url = new URL(options.url);
  const request = serialiseRequest(url, options.method, options.headers);
  const run: ThreadRun = {
    url,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    tls: url.protocol === 'https:' ? tlsConnectOptions(options.tls) : undefined,
    method: options.method,
    requests: Buffer.concat(Array.from({ length: options.pipelining }, () => request)),
    size: request.length,
    pipelining: options.pipelining,
    budget: new BigInt64Array(plan.budget),
    sockets: new Set(),
    stopping: false,
    counts: { total: 0, byStatus: new Uint32Array(600), histogram: newHistogram(), errors: 0, reconnects: 0, unanswered: 0 },
  };
  const deadline = await start();
  let timer: NodeJS.Timeout | undefined;
  // A timer may fire a millisecond before Date.now() reaches the deadline: re-armed, the load never stops short.
  const timeUp = new Promise<'duration'>((resolve) => {
    const check = () => (Date.now() >= deadline ? resolve('duration') : (timer = setTimeout(check, deadline - Date.now())));
    check();
  });
  const slots = Promise.all(Array.from({ length: plan.connections }, () => runSlot(run)));
  const endedEarly = slots.then((ends): RawStop => (ends.includes('max-requests') ? 'max-requests' : 'connect-failures'));
  const stoppedBy = await Promise.race([timeUp, endedEarly]);
  const stoppedAt = Date.now();
  clearTimeout(timer);
  run.stopping = true;
  for (const socket of run.sockets) socket.destroy();
  return threadResult(run.counts, stoppedBy, stoppedAt);
}

async function threadResult(counts: Counts, stoppedBy: RawStop, stoppedAt: number): Promise<ThreadResult> {
  const { encodeIntoCompressedBase64 } = await import('hdr-histogram-js');
  const statusCounts: Record<string, number> = {};
  counts.byStatus.forEach((count, status) => {
    if (count > 0) statusCounts[status] = count;
  });
  const { total, errors, reconnects, unanswered, lastError } = counts;
  const histogram = encodeIntoCompressedBase64(counts.histogram);
  return { total, statusCounts, errors, reconnects, unanswered, stoppedBy, stoppedAt, ...(lastError ? { lastError } : {}), histogram };
}

interface ThreadResults {
  /** Date.now() when the load started. */
  startedAt: number;
  results: ThreadResult[];
}

/** The next message from a worker; rejects if it fails or exits first. */
function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) => settle(() => reject(new Error(`raw saturator thread exited with code ${code}`)));
    const onMessage = (message: T) => settle(() => resolve(message));
    const settle = (then: () => void) => {
      worker.off('error', onError).off('exit', onExit).off('message', onMessage);
      then();
    };
    worker.on('error', onError).on('exit', onExit).on('message', onMessage);
  });
}

/**
 * One worker thread per entry of `perThread`. Their load starts together once every thread is
 * ready (module loaded, histogram built), so all of them share one start and one deadline.
 */
async function inWorkers(options: RawSaturateOptions, perThread: number[], budget: SharedArrayBuffer): Promise<ThreadResults> {
  const file = fileURLToPath(import.meta.url);
  const workers = perThread.map((connections) => new Worker(file, { workerData: { options, connections, budget } satisfies ThreadPlan }));
  try {
    await Promise.all(workers.map((worker) => nextMessage<'ready'>(worker)));
    const startedAt = Date.now();
    const results = Promise.all(workers.map((worker) => nextMessage<ThreadResult>(worker)));
    for (const worker of workers) worker.postMessage(startedAt + options.durationSec * 1000);
    return { startedAt, results: await results };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

async function inThisThread(options: RawSaturateOptions, budget: SharedArrayBuffer): Promise<ThreadResults> {
  let startedAt = 0;
  const start = () => Promise.resolve((startedAt = Date.now()) + options.durationSec * 1000);
  const result = await saturateThread({ options, connections: options.connections, budget }, start);
  return { startedAt, results: [result] };
}

/** Runs `threads` worker threads (0 or 1: this thread) and merges their counts and histograms. */
export async function runRawSaturate(options: RawSaturateOptions): Promise<RawSaturateResult> {
  const threads = Math.max(1, options.threads);
  const budget = new SharedArrayBuffer(8);
  new BigInt64Array(budget)[0] = BigInt(options.maxRequests);
  const perThread = Array.from(
    { length: threads },
    (_, i) => Math.floor(options.connections / threads) + (i < options.connections % threads ? 1 : 0),
  ).filter((n) => n > 0);
  const { startedAt, results } = options.threads <= 1 ? await inThisThread(options, budget) : await inWorkers(options, perThread, budget);
  return mergeResults(results, startedAt);
}

async function mergeResults(results: ThreadResult[], startedAt: number): Promise<RawSaturateResult> {
  const { decodeFromCompressedBase64 } = await import('hdr-histogram-js');
  const merged = newHistogram();
  const statusCounts: Record<string, number> = {};
  const sum = (key: 'total' | 'errors' | 'reconnects' | 'unanswered') => results.reduce((n, r) => n + r[key], 0);
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statusCounts)) statusCounts[status] = (statusCounts[status] ?? 0) + count;
    merged.add(decodeFromCompressedBase64(result.histogram));
  }
  // The run lasted as long as any thread loaded; it stopped short only if no thread reached the deadline.
  const stops = results.map((r) => r.stoppedBy);
  const stoppedBy: RawStop = stops.includes('duration') ? 'duration' : stops.includes('max-requests') ? 'max-requests' : 'connect-failures';
  const lastError = results.map((r) => r.lastError).find((e) => e !== undefined);
  const ms = (p: number) => merged.getValueAtPercentile(p) / 1000;
  return {
    total: sum('total'),
    durationSec: (Math.max(...results.map((r) => r.stoppedAt)) - startedAt) / 1000,
    stoppedBy,
    statusCounts,
    errors: sum('errors'),
    reconnects: sum('reconnects'),
    unanswered: sum('unanswered'),
    ...(lastError ? { lastError } : {}),
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: merged.maxValue / 1000 },
  };
}

if (!isMainThread && parentPort && (workerData as { budget?: unknown })?.budget) {
  const port = parentPort;
  const started = () => {
    port.postMessage('ready');
    return new Promise<number>((resolve) => port.once('message', resolve));
  };
  port.postMessage(await saturateThread(workerData as ThreadPlan, started));
}
