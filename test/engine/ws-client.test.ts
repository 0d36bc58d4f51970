/** The WebSocket client against a scripted ws server on loopback: what each exchange records. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Observation } from '../../src/engine/observation.js';
import { ObservationStream } from '../../src/engine/stream.js';
import { monotonicClock, openWebSocket, WsPool, type WsClientOptions } from '../../src/engine/ws-client.js';

let server: WebSocketServer;
let base: string;

beforeAll(async () => {
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    maxPayload: 64 * 1024,
    verifyClient: (info, done) => (info.req.url === '/refuse' ? done(false, 401, 'Unauthorized') : done(true)),
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('connection', (ws) => {
    // Answers in order, as API Gateway does per connection: a slow answer holds the ones after it.
    let chain = Promise.resolve();
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString() : Buffer.concat(data as Buffer[]).toString();
      chain = chain.then(async () => {
        if (text === 'slow') await new Promise((resolve) => setTimeout(resolve, 250));
        if (text === 'close') return ws.close(4000, 'bye');
        ws.send(text.startsWith('{') ? text : `echo:${text.length}:${text.slice(0, 8)}`);
      });
    });
  });
});

afterAll(async () => {
  for (const client of server.clients) client.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function options(timeoutMs = 2_000): WsClientOptions & { seen: Observation[] } {
  const stream = new ObservationStream();
  const seen: Observation[] = [];
  stream.subscribe((o) => seen.push(o));
  stream.setCheck('ws-test:WS x');
  return { clock: monotonicClock(), stream, timeoutMs, seen };
}

describe('openWebSocket', () => {
  it('a refused upgrade is an observation with its HTTP status, and no socket', async () => {
    const opts = options();
    const { observation, connection } = await openWebSocket(
      { probe: 'p.refused', url: `${base}/refuse`, headers: { 'x-api-key': 'k' } },
      opts,
    );
    expect(connection).toBeUndefined();
    expect(observation).toMatchObject({
      probe: 'p.refused',
      status: 401,
      path: '/refuse',
      requestHeaders: { 'x-api-key': 'k' },
      ws: { event: 'connect' },
    });
    expect(opts.seen.map((o) => [o.probe, o.check])).toEqual([['p.refused', 'ws-test:WS x']]);
  });

  it('an opened socket is status 101; a closed port is a transport error', async () => {
    const { observation, connection } = await openWebSocket({ probe: 'p.open', url: `${base}/ok?q=1` }, options());
    expect(observation.status).toBe(101);
    expect(observation.path).toBe('/ok?q=1');
    await connection!.close();
    const down = await openWebSocket({ probe: 'p.down', url: 'ws://127.0.0.1:1/' }, options());
    expect(down.observation.error).toBe('ECONNREFUSED');
  });
});

describe('WsConnection', () => {
  it('matches answers in order; a late answer stays with its own message', async () => {
    const opts = options(200);
    const { connection } = await openWebSocket({ probe: 'c', url: `${base}/x` }, opts);
    const slow = connection!.send({ probe: 'm.slow', method: 'WS', path: '', body: 'slow' });
    const first = await slow;
    expect(first.error).toBe('timeout');
    // Sent after the slow one timed out, answered right after its late answer: it must get its own.
    const next = await connection!.send({ probe: 'm.next', method: 'WS', path: '', body: 'next' });
    expect(next.bodySnippet).toBe('echo:4:next');
    expect(next.ws).toMatchObject({ event: 'message', answer: 'frame', bytes: 4, frames: 1, connection: 0 });
    await connection!.close();
  });

  it('splits a large message into frames of one message, and records a close instead of an answer', async () => {
    const { connection } = await openWebSocket({ probe: 'c', url: `${base}/x` }, options());
    const big = await connection!.send({ probe: 'm.big', method: 'WS', path: '', body: 'y'.repeat(5000) }, undefined, 1024);
    expect(big.ws).toMatchObject({ frames: 5, bytes: 5000, answer: 'frame' });
    expect(big.bodySnippet).toBe('echo:5000:yyyyyyyy');
    const closed = await connection!.send({ probe: 'm.close', method: 'WS', path: '', body: 'close' });
    expect(closed.ws).toMatchObject({ answer: 'close', closeCode: 4000, closeReason: 'bye' });
    const after = await connection!.send({ probe: 'm.after', method: 'WS', path: '', body: 'x' });
    expect(after.error).toBe('socket closed');
  });

  it('a pool spreads messages round-robin over its sockets', async () => {
    const opts = options();
    const sockets = await Promise.all([0, 1, 2].map((i) => openWebSocket({ probe: 'c', url: `${base}/x` }, opts, i)));
    const pool = new WsPool(
      sockets.map((s) => s.connection!),
      opts.clock,
    );
    const answers = await Promise.all(Array.from({ length: 6 }, () => pool.send({ probe: 'm', method: 'WS', path: '', body: '{"a":1}' })));
    expect(answers.map((o) => o.ws!.connection)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(answers.every((o) => o.bodySnippet === '{"a":1}')).toBe(true);
    await Promise.all(sockets.map((s) => s.connection!.close()));
  });
});
