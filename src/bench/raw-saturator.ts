/**
 * A closed-model HTTP/1.1 saturator on raw sockets, one per worker thread: the request is
 * serialised once into a Buffer and written again as soon as the previous answer is complete;
 * answers are framed by response-framer.ts and counted by status. This is what
 * wrk does in C, and what autocannon does with a full parser per response: here parsing stops at
 * the status line and the framing headers, so one thread keeps up with a fast gateway.
 *
 * Chosen over a library because no maintained npm package exposes such a loop; autocannon stays
 * the engine for `--saturate --engine autocannon`, and the benchmark compares both with wrk.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build } from 'hdr-histogram-js';
import { ResponseFramer, serialiseRequest } from './response-framer.js';

export interface RawSaturateOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  connections: number;
  durationSec: number;
  threads: number;
  maxRequests: number;
}

export interface RawSaturateResult {
  total: number;
  durationSec: number;
  statusCounts: Record<string, number>;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface WorkerResult {
  total: number;
  statusCounts: Record<string, number>;
  errors: number;
  /** Latency histogram (µs), encoded for merging across threads. */
  histogram: string;
}

/** One thread's loop: `connections` sockets, each resending as soon as its answer is complete. */
async function saturateThread(options: RawSaturateOptions, connections: number, maxRequests: number): Promise<WorkerResult> {
  const url = new URL(options.url);
  const request = serialiseRequest(url, options.method, options.headers);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  // Counted in a typed array indexed by status: no string keys on the hot path.
  const byStatus = new Uint32Array(600);
  let total = 0;
  let sent = 0;
  let errors = 0;
  let stopping = false;
  const sockets: Socket[] = [];
  const deadline = Date.now() + options.durationSec * 1000;

  await new Promise<void>((resolve) => {
    let open = connections;
    let timer: NodeJS.Timeout | undefined;
    const closed = () => {
      if (--open > 0) return;
      clearTimeout(timer);
      resolve();
    };
    for (let c = 0; c < connections; c++) {
      const socket = url.protocol === 'https:' ? tlsConnect({ host: url.hostname, port, servername: url.hostname }) : connect({ host: url.hostname, port });
      socket.setNoDelay(true);
      sockets.push(socket);
      let startedAt = 0;
      const fire = () => {
        if (stopping || sent >= maxRequests) return socket.end();
        sent++;
        startedAt = performance.now();
        socket.write(request);
      };
      const framer = new ResponseFramer((status) => {
        total++;
        byStatus[status < 600 ? status : 0]!++;
        histogram.recordValue(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
        fire();
      }, options.method);
      socket.on(url.protocol === 'https:' ? 'secureConnect' : 'connect', fire);
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
      socket.on('error', () => errors++);
      socket.on('close', closed);
    }
    timer = setTimeout(() => {
      stopping = true;
      for (const socket of sockets) socket.destroy();
    }, Math.max(0, deadline - Date.now()));
  });
  const { encodeIntoCompressedBase64 } = await import('hdr-histogram-js');
  const statusCounts: Record<string, number> = {};
  byStatus.forEach((count, status) => {
    if (count > 0) statusCounts[status] = count;
  });
  return { total, statusCounts, errors, histogram: encodeIntoCompressedBase64(histogram) };
}

/** Runs `threads` worker threads (0 or 1: this thread) and merges their counts and histograms. */
export async function runRawSaturate(options: RawSaturateOptions): Promise<RawSaturateResult> {
  const threads = Math.max(1, options.threads);
  const started = Date.now();
  const perThread = Array.from({ length: threads }, (_, i) => Math.floor(options.connections / threads) + (i < options.connections % threads ? 1 : 0)).filter((n) => n > 0);
  const capPerThread = Math.ceil(options.maxRequests / perThread.length);
  const results: WorkerResult[] =
    options.threads <= 1
      ? [await saturateThread(options, options.connections, options.maxRequests)]
      : await Promise.all(
          perThread.map(
            (connections) =>
              new Promise<WorkerResult>((resolve, reject) => {
                const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { options, connections, maxRequests: capPerThread } });
                worker.once('message', resolve);
                worker.once('error', reject);
              }),
          ),
        );
  const durationSec = (Date.now() - started) / 1000;
  const { decodeFromCompressedBase64 } = await import('hdr-histogram-js');
  const merged = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const statusCounts: Record<string, number> = {};
  let total = 0;
  let errors = 0;
  for (const result of results) {
    total += result.total;
    errors += result.errors;
    for (const [status, count] of Object.entries(result.statusCounts)) statusCounts[status] = (statusCounts[status] ?? 0) + count;
    merged.add(decodeFromCompressedBase64(result.histogram));
  }
  const ms = (p: number) => merged.getValueAtPercentile(p) / 1000;
  return { total, durationSec, statusCounts, errors, latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: merged.maxValue / 1000 } };
}

if (!isMainThread && parentPort && (workerData as { options?: unknown })?.options) {
  const data = workerData as { options: RawSaturateOptions; connections: number; maxRequests: number };
  parentPort.postMessage(await saturateThread(data.options, data.connections, data.maxRequests));
}
