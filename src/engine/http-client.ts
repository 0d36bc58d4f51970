import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, errors as undiciErrors } from 'undici';
import { DEFAULT_HEADERS, mergeHeaders } from './client-headers.js';
import { RECORDED_HEADERS, type Observation } from './observation.js';
import type { ObservationStream } from './stream.js';

/** A request as the checks describe it; the client joins `path` to the target's base URL. */
export interface ProbeRequest {
  probe: string;
  method: string;
  /** Path below the target base (may include a query string). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Signs the request as it goes on the wire (SigV4): called last, after every header is set. */
  sign?: RequestSigner;
  /** Response headers to keep beyond RECORDED_HEADERS (lower case), e.g. a canary's marker header. */
  recordHeaders?: readonly string[];
}

/** A request as it will go on the wire: what a signer covers. */
export interface WireRequest {
  method: string;
  /** The full URL: the target's base path (a stage such as /prod) included, as the gateway sees it. */
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Returns the headers (and body) to send. Async because the SDK's signer is. A signer that
 * tampers with the request after signing (the sigv4 check's matrix) returns the tampered one.
 */
export type RequestSigner = (request: WireRequest) => Promise<Pick<WireRequest, 'headers' | 'body'>>;

/** How to trust the target's certificate (`--ca`, `--insecure`); the system's roots when absent. */
export interface TlsTrust {
  /** PEM certificates trusted in addition to the system's roots. */
  ca?: string;
  /** Skip certificate verification altogether. */
  insecure?: boolean;
}

export interface HttpClientOptions {
  /** Base URL: scheme, host, port and an optional path prefix (`https://x.execute-api.../prod`). */
  baseUrl: string;
  requestTimeoutMs: number;
  /** Most sockets to open; a volley of N concurrent requests needs N. */
  connections?: number;
  /** performance.now() value that is time 0 of the run clock; share it so several clients' observations line up. */
  clockOriginMs?: number;
  /** The run's record stream: every observation this client makes is published there, tagged with its check. */
  stream?: ObservationStream;
  /** Aborted when the run is interrupted: requests in flight are dropped, none is sent after. */
  signal?: AbortSignal;
  tls?: TlsTrust;
  /**
   * Headers under every request's own: the policy's `headers`. The gatecheck User-Agent
   * (client-headers.ts) is under these, so a policy's User-Agent replaces it.
   */
  headers?: Readonly<Record<string, string>>;
}

const BODY_SNIPPET_BYTES = 512;

/** Aborts an exchange whose answer (head and body) is not complete within requestTimeoutMs. */
class ExchangeTimeout extends Error {}

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
  readonly stream: ObservationStream | undefined;
  readonly requestTimeoutMs: number;
  readonly tls: TlsTrust | undefined;
  /** Sent under each request's own headers: the User-Agent and the policy's headers (see withHeaders). */
  readonly defaultHeaders: Readonly<Record<string, string>>;
  private readonly prefix: string;
  private readonly agent: Agent;
  private readonly signal: AbortSignal | undefined;
  /** Whether an http:// target's port speaks TLS: asked once, after a connection closed without a byte. */
  private speaksTls: Promise<boolean> | undefined;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.tls = options.tls;
    this.defaultHeaders = mergeHeaders(DEFAULT_HEADERS, options.headers);
    this.clockOriginMs = options.clockOriginMs ?? performance.now();
    this.epochAtOriginMs = Date.now() - (performance.now() - this.clockOriginMs);
    this.stream = options.stream;
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
      connect: tlsConnectOptions(options.tls),
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
    // Unsigned requests stay synchronous up to the socket: the paced engine's hot path.
    const sign = request.sign;
    const exchange = sign
      ? this.signed(request, sign).then((wire) => this.exchange(wire, intendedAtMs))
      : this.exchange(request, intendedAtMs);
    const stream = this.stream;
    if (!stream) return exchange;
    // The check is the one running when the request leaves, not when its answer comes back.
    const check = stream.check;
    return exchange.then((observation) => {
      if (check !== undefined) observation.check = check;
      stream.publish(observation);
      return observation;
    });
  }

  /**
   * This client with `headers` merged over its default headers (a route's policy headers): same
   * sockets, clock and stream. A view, not a copy, so nothing needs closing twice.
   */
  withHeaders(headers: Readonly<Record<string, string>> | undefined): HttpClient {
    if (!headers || Object.keys(headers).length === 0) return this;
    const view = Object.create(this) as HttpClient;
    Object.defineProperty(view, 'defaultHeaders', { value: mergeHeaders(this.defaultHeaders, headers), enumerable: true });
    return view;
  }

  /**
   * The request as it goes on the wire, signed. Every header is set by now (the check's, the
   * credential's); whatever is added to all requests must be added before this, since a header
   * added after signing would be unsigned (or break the signature, if it is a signed one).
   */
  private async signed(request: ProbeRequest, sign: RequestSigner): Promise<ProbeRequest> {
    const wire = await sign({
      method: request.method,
      url: new URL(this.urlFor(request.path)),
      headers: mergeHeaders(this.defaultHeaders, request.headers),
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const { probe, method, path, recordHeaders } = request;
    return {
      probe,
      method,
      path,
      headers: wire.headers,
      ...(wire.body !== undefined ? { body: wire.body } : {}),
      ...(recordHeaders ? { recordHeaders } : {}),
    };
  }

  /** A client for the same target and run clock with its own socket pool (a volley needs one socket per request). */
  sibling(connections: number, requestTimeoutMs: number): HttpClient {
    return new HttpClient({
      baseUrl: this.baseUrl,
      requestTimeoutMs,
      connections,
      headers: this.defaultHeaders,
      clockOriginMs: this.clockOriginMs,
      ...(this.stream ? { stream: this.stream } : {}),
      ...(this.signal ? { signal: this.signal } : {}),
      ...(this.tls ? { tls: this.tls } : {}),
    });
  }

  /**
   * One exchange over undici's raw dispatch API: no Readable stream per response (undici's
   * request() builds one), which is what lets the paced engine sustain thousands of requests
   * per second on one core. The head's arrival time is the observation's doneAtMs; the promise
   * settles when the body has been read, so the socket is free again. An answer counts only once
   * its body is complete: a body cut short, or still trickling in requestTimeoutMs after the
   * request went out, is a transport failure (undici's bodyTimeout bounds only the silence
   * between chunks, so a slow drip would otherwise be read as the head's status).
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
      let deadline: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        clearTimeout(deadline);
        const observation: Observation = {
          probe: request.probe,
          method: request.method,
          path: request.path,
          ...(request.headers ? { requestHeaders: request.headers } : {}),
          intendedAtMs,
          sentAtMs,
          doneAtMs: doneAtMs || this.now(),
          headers,
        };
        if (snippet) observation.bodySnippet = snippet;
        if (error === undefined && status !== undefined) return resolve({ ...observation, status });
        observation.doneAtMs = this.now();
        if (status !== undefined) return resolve({ ...observation, error: describeBodyFailure(error, status, this.requestTimeoutMs) });
        void this.describeFailure(error).then((text) => resolve({ ...observation, error: text }));
      };
      this.agent.dispatch(
        {
          origin: this.origin,
          path: this.prefix + request.path,
          method: request.method,
          headers: mergeHeaders(this.defaultHeaders, request.headers),
          ...(request.body !== undefined ? { body: request.body } : {}),
        },
        // undici's classic handler interface (the one its Client accepts directly).
        {
          // Called as the request goes onto a socket: time queued for a free socket does not count.
          onConnect: (abort: (reason: Error) => void) => {
            deadline = setTimeout(() => abort(new ExchangeTimeout()), this.requestTimeoutMs);
          },
          onHeaders: (statusCode: number, rawHeaders: Buffer[]) => {
            doneAtMs = this.now();
            status = statusCode;
            headers = pickRawHeaders(rawHeaders, request.recordHeaders);
            return true;
          },
          onData: (chunk: Buffer) => {
            if (snippet.length < BODY_SNIPPET_BYTES) snippet += chunk.toString('utf8', 0, BODY_SNIPPET_BYTES - snippet.length);
            return true;
          },
          onComplete: () => finish(),
          onError: (error: Error) => finish(error),
        },
      );
    });
  }

  /**
   * The failure's description. A TLS server on an http:// URL just closes the connection, which
   * reads like any reset: the first time that happens, one TLS handshake (no HTTP request) asks
   * the port whether it speaks TLS, so the report can say "use https://".
   */
  private async describeFailure(error: unknown): Promise<string> {
    const text = describeError(error);
    if (!this.origin.startsWith('http:') || !closedWithoutAByte(error)) return text;
    this.speaksTls ??= speaksTls(new URL(this.origin), this.requestTimeoutMs);
    return (await this.speaksTls) ? TLS_ON_HTTP : text;
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

const RECORDED = new Set<string>(RECORDED_HEADERS);

/** Keeps the recorded headers from undici's raw [name, value, name, value, ...] list. */
function pickRawHeaders(raw: Buffer[], extra: readonly string[] | undefined): Record<string, string> {
  const picked: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (!RECORDED.has(name) && !extra?.includes(name)) continue;
    const value = raw[i + 1]!.toString('latin1');
    picked[name] = picked[name] === undefined ? value : `${picked[name]}, ${value}`;
  }
  return picked;
}

/**
 * tls.connect options for a trust setting (undici's `connect`, the raw saturator); --ca adds to the
 * system's roots. One secure context for every socket: a `ca` option would parse every root
 * certificate again on each connection (tens of ms each).
 */
export function tlsConnectOptions(tls: TlsTrust | undefined): { secureContext?: SecureContext; rejectUnauthorized?: boolean } {
  if (tls?.insecure) return { rejectUnauthorized: false };
  return tls?.ca !== undefined ? { secureContext: createSecureContext({ ca: [...rootCertificates, tls.ca] }) } : {};
}

/** The connection closed (or was reset) before the target sent a single byte. */
function closedWithoutAByte(error: unknown): boolean {
  const err = error as { code?: string; socket?: { bytesRead?: number } };
  return (err.code === 'UND_ERR_SOCKET' || err.code === 'ECONNRESET') && (err.socket?.bytesRead ?? 0) === 0;
}

/** One TLS handshake to the URL's host and port, certificate unchecked: true when it completes. */
function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const port = Number(url.port || 80);
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** A failure after the head arrived: the answer is incomplete, so it is no answer (the text keeps the head's status). */
export function describeBodyFailure(error: unknown, status: number, timeoutMs: number): string {
  const name = describeError(error);
  const then = name === 'timeout' ? `the body was not complete within ${timeoutMs} ms` : 'the connection broke before the body was whole';
  return `${name} mid-body: a ${status} head, then ${then}`;
}

/** Certificate problems that --ca fixes: the issuer is not trusted here. */
const UNTRUSTED_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
/** What OpenSSL says when the peer's first bytes are not a TLS record: most often plain HTTP on an https:// URL. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

const TLS_CODE = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|INVALID_CA)/;
const TLS_ON_HTTP = 'tls: the target answered TLS on an http:// URL; use https://';

/** `tls: <what>` for a handshake or certificate failure, with the flag that gets past it when there is one. */
function describeTls(code: string, message: string, reason: string | undefined): string {
  if (NOT_TLS.has(code)) return `tls: the target did not answer TLS on an https:// URL (${code}); if it speaks plain HTTP, use http://`;
  if (UNTRUSTED_ISSUER.has(code)) return `tls: ${message} (${code}); pass --ca FILE to trust it, or --insecure`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_|INVALID_CA/.test(code)) return `tls: ${message} (${code}); --insecure skips verification`;
  // OpenSSL's own messages are a long "...:error:0A00010B:SSL routines:..." line: its reason reads better.
  return `tls: ${reason ?? message.split('\n')[0]} (${code})`;
}

/**
 * Short names for transport failures that start with a stable word (`timeout`, `ECONNREFUSED`,
 * `tls:`, `ENOTFOUND`), so checks and reports can group them, and say what to do where it is clear.
 */
export function describeError(error: unknown): string {
  const timeouts = [ExchangeTimeout, undiciErrors.HeadersTimeoutError, undiciErrors.BodyTimeoutError, undiciErrors.ConnectTimeoutError];
  if (timeouts.some((type) => error instanceof type)) return 'timeout';
  type Described = { code?: string; message?: string; reason?: string; hostname?: string; data?: string };
  const err = error as Described & { cause?: Described };
  const code = err.cause?.code ?? err.code;
  if (code && TLS_CODE.test(code)) return describeTls(code, err.cause?.message ?? err.message ?? '', err.reason);
  // A TLS alert or handshake record where an HTTP status line should be.
  // eslint-disable-next-line no-control-regex -- the bytes of a TLS record header (handshake or alert, version 3.x) are the point
  if (code?.startsWith('HPE_') && /^[\x15\x16]\x03/.test(err.data ?? '')) return TLS_ON_HTTP;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_CLOSED') return 'ECONNRESET';
  const hostname = err.cause?.hostname ?? err.hostname;
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && hostname) return `${code} ${hostname}`;
  if (code) return code;
  return err.message ?? String(error);
}
