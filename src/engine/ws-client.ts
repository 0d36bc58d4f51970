import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { DEFAULT_HEADERS, mergeHeaders } from './client-headers.js';
import { tlsConnectOptions, type ProbeRequest, type TlsTrust } from './http-client.js';
import { RECORDED_HEADERS, type Observation } from './observation.js';
import type { ObservationStream } from './stream.js';

/**
 * A small WebSocket client (the `ws` package) that turns every upgrade and every message into an
 * Observation on the run's stream, like the HTTP client does for requests: the same record type,
 * the same clock, tagged with the check that sent it. It never throws for network trouble.
 *
 * A WebSocket has no request/response pairing. API Gateway answers a route's messages (a route
 * response, or an integration that echoes) and its own refusals (`{"message":"Too Many
 * Requests","connectionId":…,"requestId":…}`) in order on each connection, so a message is
 * matched with the next frame that arrives on its socket (FIFO). A message whose answer is late
 * keeps its place in the queue, so a late frame never shifts the answers of the ones after it.
 */

export interface WsClientOptions {
  /** The run clock (the HttpClient's): every time on an observation is `clock.now()`. */
  clock: { now(): number };
  stream?: ObservationStream;
  /** Upgrade and per-message answer timeout, ms. */
  timeoutMs: number;
  tls?: TlsTrust;
  /** Aborted when the run is interrupted: open sockets are terminated. */
  signal?: AbortSignal;
}

export interface WsConnectRequest {
  probe: string;
  /** ws:// or wss:// URL, query included. */
  url: string;
  headers?: Record<string, string>;
}

export interface WsConnectResult {
  observation: Observation;
  /** Set when the upgrade succeeded (status 101): the open socket. */
  connection?: WsConnection;
}

const SNIPPET_BYTES = 512;
const RECORDED = new Set<string>(RECORDED_HEADERS);

/** Publishes with the check that was running when the exchange started (as HttpClient.send does). */
function publisher(stream: ObservationStream | undefined): (observation: Observation) => Observation {
  const check = stream?.check;
  return (observation) => {
    if (check !== undefined) observation.check = check;
    stream?.publish(observation);
    return observation;
  };
}

/** Opens one socket. Resolves with the upgrade's observation; `connection` only when it opened. */
export function openWebSocket(request: WsConnectRequest, options: WsClientOptions, index = 0): Promise<WsConnectResult> {
  const publish = publisher(options.stream);
  const sentAtMs = options.clock.now();
  const url = new URL(request.url);
  const base: Observation = {
    probe: request.probe,
    method: 'GET',
    path: url.pathname + url.search,
    ...(request.headers ? { requestHeaders: request.headers } : {}),
    intendedAtMs: sentAtMs,
    sentAtMs,
    doneAtMs: sentAtMs,
    headers: {},
    ws: { event: 'connect', url: request.url },
  };
  if (options.signal?.aborted) return Promise.resolve({ observation: publish({ ...base, error: 'interrupted' }) });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (fields: Partial<Observation>, connection?: WsConnection) => {
      if (settled) return;
      settled = true;
      const observation = publish({ ...base, doneAtMs: options.clock.now(), ...fields });
      resolve(connection ? { observation, connection } : { observation });
    };
    const socket = new WebSocket(request.url, {
      // The upgrade looks like gatecheck's other requests: its User-Agent under the probe's own headers.
      headers: mergeHeaders(DEFAULT_HEADERS, request.headers),
      handshakeTimeout: options.timeoutMs,
      perMessageDeflate: false,
      // The size probe sends what the policy allows and more: the client itself must not refuse it.
      maxPayload: 0,
      ...tlsConnectOptions(options.tls),
    });
    // A refused upgrade: the HTTP answer is the observation (API Gateway: 401/403 on $connect).
    socket.on('unexpected-response', (req, res) => {
      let snippet = '';
      res.on('data', (chunk: Buffer) => {
        if (snippet.length < SNIPPET_BYTES) snippet += chunk.toString('utf8', 0, SNIPPET_BYTES - snippet.length);
      });
      const done = () => {
        settle({ status: res.statusCode ?? 0, headers: pickHeaders(res.headers), ...(snippet ? { bodySnippet: snippet } : {}) });
        req.destroy();
      };
      res.once('end', done);
      res.once('error', done);
      res.once('close', done);
    });
    socket.on('upgrade', (res) => {
      base.headers = pickHeaders(res.headers);
    });
    socket.once('open', () => settle({ status: 101 }, new WsConnection(socket, request.url, options, index)));
    socket.once('error', (error: Error & { code?: string }) => {
      const text = /handshake has timed out/i.test(error.message) ? 'timeout' : (error.code ?? error.message);
      settle({ error: text });
      socket.terminate();
    });
  });
}

interface Pending {
  observation: Observation;
  resolve: (observation: Observation) => void;
  timer?: NodeJS.Timeout;
  /** Resolved already (timed out): its late answer is dropped when it arrives. */
  done: boolean;
}

/** One open socket: sends messages and matches each with the next frame (or the close) on it. */
export class WsConnection {
  private readonly pending: Pending[] = [];
  private closeInfo: { code: number; reason: string; atMs: number } | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: WebSocket,
    readonly url: string,
    private readonly options: WsClientOptions,
    readonly index: number,
  ) {
    socket.on('message', (data: WebSocket.RawData) => this.onFrame(data));
    // One listener per socket on the run's signal, removed when the socket closes (Node warns past 10).
    const onAbort = () => socket.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        options.signal?.removeEventListener('abort', onAbort);
        this.closeInfo = { code, reason: reason.toString('utf8'), atMs: options.clock.now() };
        for (const entry of this.pending.splice(0)) this.finish(entry, { doneAtMs: this.closeInfo.atMs }, 'close');
        resolve();
      });
    });
    // Errors end in 'close' too (ws emits it after 'error'); the listener only keeps them from throwing.
    socket.on('error', () => {});
  }

  /** The socket closed: its code, reason and when (run clock). */
  get closedWith(): { code: number; reason: string; atMs: number } | undefined {
    return this.closeInfo;
  }

  /** Sends `request.body` as one text message, in frames of at most `frameBytes`; resolves with its answer. */
  send(request: ProbeRequest, intendedAtMs = this.options.clock.now(), frameBytes = Infinity): Promise<Observation> {
    const publish = publisher(this.options.stream);
    const payload = Buffer.from(request.body ?? '', 'utf8');
    const frames = Math.max(1, Math.ceil(payload.length / frameBytes));
    const sentAtMs = this.options.clock.now();
    const url = new URL(this.url);
    const observation: Observation = {
      probe: request.probe,
      method: 'WS',
      path: url.pathname + url.search,
      intendedAtMs,
      sentAtMs,
      doneAtMs: sentAtMs,
      headers: {},
      ws: { event: 'message', url: this.url, connection: this.index, bytes: payload.length, frames },
    };
    if (this.closeInfo || this.socket.readyState !== WebSocket.OPEN) {
      const closed = this.closeInfo ? { closeCode: this.closeInfo.code, closeReason: this.closeInfo.reason } : {};
      return Promise.resolve(publish({ ...observation, error: 'socket closed', ws: { ...observation.ws!, answer: 'none', ...closed } }));
    }
    return new Promise<Observation>((resolve) => {
      const entry: Pending = { observation, resolve: (o) => resolve(publish(o)), done: false };
      entry.timer = setTimeout(
        () => this.finish(entry, { doneAtMs: this.options.clock.now(), error: 'timeout' }, 'none'),
        this.options.timeoutMs,
      );
      this.pending.push(entry);
      // API Gateway takes frames of at most 32 KB: a larger message goes as fragments of one message.
      for (let i = 0; i < frames; i++) {
        const chunk = payload.subarray(i * frameBytes, Math.min(payload.length, (i + 1) * frameBytes));
        this.socket.send(chunk, { binary: false, fin: i === frames - 1 });
      }
    });
  }

  /** Waits until the socket closes or `ms` pass (the idle-timeout probe). */
  async waitForClose(ms: number): Promise<{ code: number; reason: string; atMs: number } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    if (this.closeInfo) return this.closeInfo;
    // A late event loop runs the timer before reading what arrived meanwhile: read it first. A close
    // frame received (CLOSING) counts, though the close handshake is not over yet.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.closeInfo || this.socket.readyState === WebSocket.OPEN) return this.closeInfo;
    return { code: 0, reason: 'closing', atMs: this.options.clock.now() };
  }

  /** Closes the socket (1000) and waits for the close handshake, or terminates it after a second. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(1000);
    const timer = setTimeout(() => this.socket.terminate(), 1_000);
    await this.closed;
    clearTimeout(timer);
  }

  private onFrame(data: WebSocket.RawData): void {
    const entry = this.pending.shift();
    if (!entry || entry.done) return;
    const text = rawText(data);
    entry.observation.ws!.answerBytes = Buffer.byteLength(text);
    this.finish(entry, { doneAtMs: this.options.clock.now(), bodySnippet: text.slice(0, SNIPPET_BYTES) }, 'frame');
  }

  private finish(entry: Pending, fields: Partial<Observation>, answer: 'frame' | 'close' | 'none'): void {
    if (entry.done) return;
    entry.done = true;
    clearTimeout(entry.timer);
    const close = answer === 'close' && this.closeInfo ? { closeCode: this.closeInfo.code, closeReason: this.closeInfo.reason } : {};
    entry.resolve({ ...entry.observation, ...fields, ws: { ...entry.observation.ws!, answer, ...close } });
  }
}

/**
 * Several open sockets behind the paced engine's client interface (now + send): messages go
 * round-robin, so a volley or a paced run spreads evenly over the connections.
 */
export class WsPool {
  private next = 0;

  constructor(
    private readonly connections: readonly WsConnection[],
    private readonly clock: { now(): number },
    private readonly frameBytes = Infinity,
  ) {
    if (connections.length === 0) throw new RangeError('a WsPool needs at least one connection');
  }

  now(): number {
    return this.clock.now();
  }

  send(request: ProbeRequest, intendedAtMs?: number): Promise<Observation> {
    const connection = this.connections[this.next++ % this.connections.length]!;
    return connection.send(request, intendedAtMs, this.frameBytes);
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function pickHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (RECORDED.has(name) && value !== undefined) picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

/** performance.now()-based clock for callers without an HttpClient (tests). */
export function monotonicClock(): { now(): number } {
  const origin = performance.now();
  return { now: () => performance.now() - origin };
}
