import { performance } from 'node:perf_hooks';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { RECORDED_HEADERS, type Observation } from './observation.js';

/** A request as the checks describe it; the client joins `path` to the target's base URL. */
export interface ProbeRequest {
  probe: string;
  method: string;
  /** Path below the target base (may include a query string). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpClientOptions {
  /** Base URL: scheme, host, port and an optional path prefix (`https://x.execute-api.../prod`). */
  baseUrl: string;
  requestTimeoutMs: number;
  /** Most sockets to open; a volley of N concurrent requests needs N. */
  connections?: number;
  /** performance.now() value that is time 0 of the run clock; share it so several clients' observations line up. */
  clockOriginMs?: number;
  /** Sees every observation this client makes (run-wide ledgers: per-minute counts for CloudWatch reconciliation). */
  tap?: (observation: Observation) => void;
  /** Aborted when the run is interrupted: requests in flight are dropped, none is sent after. */
  signal?: AbortSignal;
}

const BODY_SNIPPET_BYTES = 512;

/**
 * A thin layer over undici that turns every exchange into an Observation. It never throws for
 * network trouble: refused, reset, timeout and TLS failures become `error` on the record.
 */
export class HttpClient {
  readonly origin: string;
  readonly baseUrl: string;
  readonly clockOriginMs: number;
  /** Date.now() at the run clock's time 0: turns observation times into wall-clock times. */
  readonly epochAtOriginMs: number;
  readonly tap: ((observation: Observation) => void) | undefined;
  private readonly prefix: string;
  private readonly agent: Agent;
  private readonly signal: AbortSignal | undefined;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.clockOriginMs = options.clockOriginMs ?? performance.now();
    this.epochAtOriginMs = Date.now() - (performance.now() - this.clockOriginMs);
    this.tap = options.tap;
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: options.connections ?? 1024,
      pipelining: 1,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connectTimeout: options.requestTimeoutMs,
      keepAliveTimeout: 4_000,
    });
    this.signal = options.signal;
    // Destroying the agent fails every exchange in flight at once (they resolve as errors), so an
    // interrupted run does not wait out a hanging gateway's timeouts.
    this.signal?.addEventListener('abort', () => void this.agent.destroy().catch(() => {}), { once: true });
  }

  /** The full URL a request path goes to: origin, the base URL's path prefix (a stage such as /prod), the path. */
  urlFor(path: string): string {
    return this.origin + this.prefix + path;
  }

  /** Milliseconds since this client was made: the clock every Observation is on. */
  now(): number {
    return performance.now() - this.clockOriginMs;
  }

  /** Sends one request; `intendedAtMs` is when the schedule wanted it sent (defaults to now). */
  send(request: ProbeRequest, intendedAtMs = this.now()): Promise<Observation> {
    const exchange = this.exchange(request, intendedAtMs);
    const tap = this.tap;
    return tap ? exchange.then((observation) => (tap(observation), observation)) : exchange;
  }

  /** A client for the same target and run clock with its own socket pool (a volley needs one socket per request). */
  sibling(connections: number, requestTimeoutMs: number): HttpClient {
    return new HttpClient({
      baseUrl: this.baseUrl,
      requestTimeoutMs,
      connections,
      clockOriginMs: this.clockOriginMs,
      ...(this.tap ? { tap: this.tap } : {}),
      ...(this.signal ? { signal: this.signal } : {}),
    });
  }

  /**
   * One exchange over undici's raw dispatch API: no Readable stream per response (undici's
   * request() builds one), which is what lets the paced engine sustain thousands of requests
   * per second on one core. The head's arrival time is the observation's doneAtMs; the promise
   * settles when the body has been read, so the socket is free again.
   */
  private exchange(request: ProbeRequest, intendedAtMs: number): Promise<Observation> {
    const sentAtMs = this.now();
    if (this.signal?.aborted) {
      const { probe, method, path } = request;
      return Promise.resolve({ probe, method, path, intendedAtMs, sentAtMs, doneAtMs: sentAtMs, headers: {}, error: 'interrupted' });
    }
    return new Promise<Observation>((resolve) => {
      let status: number | undefined;
      let doneAtMs = 0;
      let headers: Record<string, string> = {};
      let snippet = '';
      const finish = (error?: unknown) => {
        const observation: Observation = { probe: request.probe, method: request.method, path: request.path, intendedAtMs, sentAtMs, doneAtMs: doneAtMs || this.now(), headers };
        // A body cut short after the head arrived still leaves the status as the observation.
        if (status !== undefined) observation.status = status;
        else observation.error = describeError(error);
        if (snippet) observation.bodySnippet = snippet;
        resolve(observation);
      };
      this.agent.dispatch(
        {
          origin: this.origin,
          path: this.prefix + request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers ?? {},
          ...(request.body !== undefined ? { body: request.body } : {}),
        },
        // undici's classic handler interface (the one its Client accepts directly).
        {
          onConnect: () => {},
          onHeaders: (statusCode: number, rawHeaders: Buffer[]) => {
            doneAtMs = this.now();
            status = statusCode;
            headers = pickRawHeaders(rawHeaders);
            return true;
          },
          onData: (chunk: Buffer) => {
            if (snippet.length < BODY_SNIPPET_BYTES) snippet += chunk.toString('utf8', 0, BODY_SNIPPET_BYTES - snippet.length);
            return true;
          },
          onComplete: () => finish(),
          onError: (error: Error) => finish(error),
        } as unknown as Dispatcher.DispatchHandler,
      );
    });
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

const RECORDED = new Set<string>(RECORDED_HEADERS);

/** Keeps the recorded headers from undici's raw [name, value, name, value, ...] list. */
function pickRawHeaders(raw: Buffer[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (!RECORDED.has(name)) continue;
    const value = raw[i + 1]!.toString('latin1');
    picked[name] = picked[name] === undefined ? value : `${picked[name]}, ${value}`;
  }
  return picked;
}

/** Short, stable names for transport failures, so checks and reports can group them. */
export function describeError(error: unknown): string {
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
    return 'timeout';
  }
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  if (code && /^(ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL)/.test(code)) return `tls: ${code}`;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_CLOSED') return 'ECONNRESET';
  if (code) return code;
  return err.message ?? String(error);
}
