/**
 * A closed-model HTTP/1.1 saturator on raw sockets, one per worker thread: the request is
 * serialised once into a Buffer and written again as soon as the previous answer is complete;
 * answers are framed by Content-Length or chunked encoding and counted by status. This is what
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
import { tlsConnectOptions, type TlsTrust } from '../engine/http-client.js';

export interface RawSaturateOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  connections: number;
  durationSec: number;
  threads: number;
  maxRequests: number;
  /** --ca or --insecure for an https:// target. */
  tls?: TlsTrust;
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

export function serialiseRequest(url: URL, method: string, headers: Record<string, string>): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

const CONTENT_LENGTH = Buffer.from('\r\ncontent-length:');
const TRANSFER_ENCODING = Buffer.from('\r\ntransfer-encoding:');

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** The spellings servers actually send, tried with a fast indexOf before the case-insensitive scan. */
const COMMON_SPELLING = new Map<Buffer, Buffer>([
  [CONTENT_LENGTH, Buffer.from('\r\nContent-Length:')],
  [TRANSFER_ENCODING, Buffer.from('\r\nTransfer-Encoding:')],
]);

/** The value of a header in the head `b[0..end)`, found by a case-insensitive byte search. */
function headerValue(b: Buffer, end: number, name: Buffer): string | undefined {
  const common = COMMON_SPELLING.get(name);
  const at = common ? b.indexOf(common) : -1;
  if (at >= 0 && at < end) return valueAt(b, at + name.length, end);
  outer: for (let i = 0; i + name.length <= end; i++) {
    for (let j = 0; j < name.length; j++) {
      const c = b[i + j]!;
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== name[j]) continue outer;
    }
    return valueAt(b, i + name.length, end);
  }
  return undefined;
}

function valueAt(b: Buffer, start: number, end: number): string {
  const valueEnd = b.indexOf(CRLF, start);
  return b.toString('latin1', start, valueEnd < 0 || valueEnd > end ? end : valueEnd).trim();
}

/**
 * Incremental response framing: feed bytes, get a callback per complete response. Handles
 * Content-Length and chunked bodies; other framings count as errors.
 */
export class ResponseFramer {
  private buffered: Buffer = Buffer.alloc(0);
  private bodyLeft = -1;
  private chunked = false;
  private status = 0;

  constructor(private readonly onResponse: (status: number) => void) {}

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      if (this.bodyLeft < 0 && !this.chunked) {
        const end = this.buffered.indexOf(HEAD_END);
        if (end < 0) return;
        // Status digits at bytes 9..11 of "HTTP/1.1 200 OK"; then only the framing headers.
        const b = this.buffered;
        this.status = (b[9]! - 48) * 100 + (b[10]! - 48) * 10 + (b[11]! - 48);
        const length = headerValue(b, end, CONTENT_LENGTH);
        this.chunked = length === undefined && headerValue(b, end, TRANSFER_ENCODING)?.toLowerCase() === 'chunked';
        this.bodyLeft = length === undefined ? 0 : Number(length);
        this.buffered = this.buffered.subarray(end + 4);
        if (this.chunked) this.bodyLeft = -1;
      }
      if (this.chunked) {
        const lineEnd = this.buffered.indexOf(CRLF);
        if (lineEnd < 0) return;
        const size = parseInt(this.buffered.toString('latin1', 0, lineEnd), 16);
        if (this.buffered.length < lineEnd + 2 + size + 2) return;
        this.buffered = this.buffered.subarray(lineEnd + 2 + size + 2);
        if (size === 0) {
          this.chunked = false;
          this.bodyLeft = -1;
          this.onResponse(this.status);
        }
        continue;
      }
      if (this.buffered.length < this.bodyLeft) return;
      this.buffered = this.buffered.subarray(this.bodyLeft);
      this.bodyLeft = -1;
      this.onResponse(this.status);
    }
  }
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
  const secure = { host: url.hostname, port, servername: url.hostname, ...tlsConnectOptions(options.tls) };

  await new Promise<void>((resolve) => {
    let open = connections;
    let timer: NodeJS.Timeout | undefined;
    const closed = () => {
      if (--open > 0) return;
      clearTimeout(timer);
      resolve();
    };
    for (let c = 0; c < connections; c++) {
      const socket = url.protocol === 'https:' ? tlsConnect(secure) : connect({ host: url.hostname, port });
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
      });
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
