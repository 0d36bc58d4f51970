import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Credential, Policy, WebSocketPolicy } from '../policy/types.js';
import type { FaultName } from './faults.js';
import type { MetricsRecorder } from './metrics-recorder.js';
import { TokenBucket } from './token-bucket.js';

/** Route keys of the WebSocket recorder (the client's minute ledger files the same ones). */
export const WS_CONNECT_ROUTE = '$connect';
export const WS_MESSAGE_ROUTE = '$message';

/**
 * The reference gateway's WebSocket API, on the same port as its HTTP routes: every
 * `websockets:` entry with a `path` is upgraded there, with API Gateway's semantics:
 *   $connect   the credential checked on the upgrade (header, or the query parameter the entry
 *              names); refused with HTTP 403 {"message":"Forbidden"} and no socket
 *   messages   one token bucket per entry (the stage/route limit, shared by every connection),
 *              or one per connection with `perConnection`; a throttled message is answered with
 *              {"message":"Too Many Requests","connectionId":…,"requestId":…} and the socket stays open
 *   $default   echoes the message back (the route's answer)
 *   size       a message over maxMessageBytes (default 128 KB) closes the socket with 1009
 *   idle       with limits.idleTimeoutSec, a socket without a message for that long is closed (1001)
 * Faults: `ws-auth-off` opens every socket, `ws-no-throttle` answers every message.
 * Every upgrade and message of the entries is recorded for the CloudWatch emulator (one WebSocket
 * API): `$connect` 101 or 403, `$message` 200 or 429, at the wall-clock time of the answer. A
 * message over the size limit closes the socket before it is read, so it is not recorded.
 */

/** API Gateway's message size limit, when the policy gives none. */
export const DEFAULT_WS_MAX_MESSAGE_BYTES = 128 * 1024;

interface Endpoint {
  entry: WebSocketPolicy;
  server: WebSocketServer;
  /** The credential `$connect` requires, as the wire carries it; undefined: none required (or ws-auth-off). */
  expected?: { in: 'header' | 'query'; name: string; value: string };
  /** Shared by every connection (stage/route limit); undefined when per connection or not throttled. */
  bucket?: TokenBucket;
  perConnection?: { ratePerSec: number; burst: number };
}

export interface WebSocketGateway {
  /** Terminates every socket and stops the servers. */
  close(): void;
}

export function attachWebSockets(
  server: Server,
  policy: Policy,
  faults: ReadonlySet<FaultName>,
  recorder?: MetricsRecorder,
): WebSocketGateway {
  const record = (route: string, status: number, arrivedMs: number) =>
    recorder?.record(Date.now(), route, status, performance.now() - arrivedMs);
  const endpoints = new Map<string, Endpoint>();
  for (const entry of policy.websockets ?? []) {
    if (entry.path === undefined) continue;
    endpoints.set(entry.path, compile(entry, policy, faults));
  }
  if (endpoints.size > 0) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      const arrivedMs = performance.now();
      const url = new URL(req.url ?? '/', 'http://gateway');
      const endpoint = endpoints.get(url.pathname);
      if (!endpoint) return refuse(socket, 403, 'Missing Authentication Token');
      if (endpoint.expected && !credentialMatches(endpoint.expected, req, url)) {
        record(WS_CONNECT_ROUTE, 403, arrivedMs);
        return refuse(socket, 403, 'Forbidden');
      }
      endpoint.server.handleUpgrade(req, socket, head, (ws) => {
        record(WS_CONNECT_ROUTE, 101, arrivedMs);
        serve(endpoint, ws, record);
      });
    });
  }
  return {
    close: () => {
      for (const endpoint of endpoints.values()) {
        for (const client of endpoint.server.clients) client.terminate();
        endpoint.server.close();
      }
    },
  };
}

function compile(entry: WebSocketPolicy, policy: Policy, faults: ReadonlySet<FaultName>): Endpoint {
  const server = new WebSocketServer({
    noServer: true,
    // ws closes the socket with 1009 when a message is larger: API Gateway's behaviour.
    maxPayload: entry.limits?.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const endpoint: Endpoint = { entry, server };
  const credential: Credential | undefined = entry.auth?.credential !== undefined ? policy.credentials[entry.auth.credential] : undefined;
  if (entry.auth?.required && credential && !faults.has('ws-auth-off')) {
    endpoint.expected =
      entry.auth.in === 'query'
        ? { in: 'query', name: entry.auth.queryParam, value: credential.value }
        : {
            in: 'header',
            name: credential.header,
            value: credential.scheme ? `${credential.scheme} ${credential.value}` : credential.value,
          };
  }
  const throttle = entry.throttle;
  if (throttle && !faults.has('ws-no-throttle')) {
    if (throttle.perConnection) endpoint.perConnection = { ratePerSec: throttle.rateLimit, burst: throttle.burstLimit };
    else endpoint.bucket = new TokenBucket(throttle.rateLimit, throttle.burstLimit, performance.now());
  }
  return endpoint;
}

function credentialMatches(expected: NonNullable<Endpoint['expected']>, req: IncomingMessage, url: URL): boolean {
  if (expected.in === 'query') return url.searchParams.get(expected.name) === expected.value;
  return req.headers[expected.name] === expected.value;
}

/** A refused upgrade: an HTTP answer on the raw socket, then the socket is closed (no WebSocket). */
function refuse(socket: Duplex, status: 403, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} Forbidden\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-ErrorType: ${message === 'Forbidden' ? 'ForbiddenException' : 'MissingAuthenticationTokenException'}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function serve(endpoint: Endpoint, ws: WebSocket, record: (route: string, status: number, arrivedMs: number) => void): void {
  const connectionId = randomBytes(12).toString('base64');
  const own = endpoint.perConnection
    ? new TokenBucket(endpoint.perConnection.ratePerSec, endpoint.perConnection.burst, performance.now())
    : undefined;
  const bucket = own ?? endpoint.bucket;
  // The idle timeout (API Gateway: 10 minutes): a socket with no message for that long is closed (1001 Going Away).
  const idleMs = (endpoint.entry.limits?.idleTimeoutSec ?? 0) * 1000;
  let idle: NodeJS.Timeout | undefined;
  const resetIdle = () => {
    clearTimeout(idle);
    if (idleMs > 0) idle = setTimeout(() => ws.close(1001, 'Going away'), idleMs);
  };
  resetIdle();
  ws.on('close', () => clearTimeout(idle));
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    resetIdle();
    const arrivedMs = performance.now();
    if (bucket && !bucket.tryTake(arrivedMs)) {
      ws.send(JSON.stringify({ message: 'Too Many Requests', connectionId, requestId: randomUUID() }));
      record(WS_MESSAGE_ROUTE, 429, arrivedMs);
      return;
    }
    ws.send(data, { binary: isBinary });
    record(WS_MESSAGE_ROUTE, 200, arrivedMs);
  });
}
