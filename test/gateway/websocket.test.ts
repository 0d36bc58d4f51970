/** The reference gateway's WebSocket API: $connect auth, the message bucket and its error frame, the size limit, the faults. */
import { describe, expect, it } from 'vitest';
import { monotonicClock, openWebSocket, type WsConnection } from '../../src/engine/ws-client.js';
import type { FaultName } from '../../src/gateway/faults.js';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import { parsePolicy } from '../../src/policy/load.js';

const KEY = 'ws-test-key-0123456789';
const POLICY = parsePolicy(
  `version: 1
credentials:
  main: { header: x-api-key, value: "${KEY}" }
routes:
  - { method: GET, path: /health }
websockets:
  - name: chat
    path: /ws
    auth: { required: true, credential: main }
    throttle: { rateLimit: 1, burstLimit: 3 }
    limits: { maxMessageBytes: 2048 }
  - name: own
    path: /own
    auth: { required: true, credential: main, in: query, queryParam: token }
    throttle: { rateLimit: 1, burstLimit: 2, perConnection: true }
  - name: idle
    path: /idle
    limits: { idleTimeoutSec: 0.3 }
`,
  'policy.yaml',
  { env: {} },
);
const opts = { clock: monotonicClock(), timeoutMs: 2_000 };

async function withGateway(faults: FaultName[], body: (url: string) => Promise<void>): Promise<void> {
  const gateway: GatewayHandle = await startGateway({ policy: POLICY, faults });
  try {
    await body(gateway.url.replace('http', 'ws'));
  } finally {
    await gateway.close();
  }
}

const open = (url: string, headers: Record<string, string> = {}) => openWebSocket({ probe: 'c', url, headers }, opts);
const send = (c: WsConnection, body = '{"action":"echo"}') => c.send({ probe: 'm', method: 'WS', path: '', body });

describe('reference gateway: WebSocket', () => {
  it('$connect: the key in its header (or the query parameter the entry names) opens, anything else is 403', () =>
    withGateway([], async (url) => {
      const refused = await open(`${url}/ws`);
      expect(refused.observation.status).toBe(403);
      expect(JSON.parse(refused.observation.bodySnippet!)).toEqual({ message: 'Forbidden' });
      expect((await open(`${url}/ws`, { 'x-api-key': 'wrong' })).observation.status).toBe(403);
      expect((await open(`${url}/ws?x-api-key=${KEY}`)).observation.status).toBe(403);
      expect((await open(`${url}/nowhere`, { 'x-api-key': KEY })).observation.status).toBe(403);
      const ok = await open(`${url}/ws`, { 'x-api-key': KEY });
      expect(ok.observation.status).toBe(101);
      await ok.connection!.close();
      expect((await open(`${url}/own`, { 'x-api-key': KEY })).observation.status).toBe(403);
      const query = await open(`${url}/own?token=${KEY}`);
      expect(query.observation.status).toBe(101);
      await query.connection!.close();
    }));

  it('one stage bucket across connections; a throttled message gets the AWS error frame and the socket stays open', () =>
    withGateway([], async (url) => {
      const a = (await open(`${url}/ws`, { 'x-api-key': KEY })).connection!;
      const b = (await open(`${url}/ws`, { 'x-api-key': KEY })).connection!;
      const answers = await Promise.all([send(a), send(a), send(a), send(a)]);
      expect(answers.map((o) => o.bodySnippet)).toEqual([
        '{"action":"echo"}',
        '{"action":"echo"}',
        '{"action":"echo"}',
        expect.stringContaining('Too Many Requests'),
      ]);
      expect(JSON.parse(answers[3].bodySnippet!)).toEqual({
        message: 'Too Many Requests',
        connectionId: expect.any(String),
        requestId: expect.any(String),
      });
      // The other connection shares the (empty) bucket.
      expect((await send(b)).bodySnippet).toContain('Too Many Requests');
      await Promise.all([a.close(), b.close()]);
    }));

  it('perConnection: every socket has its own bucket', () =>
    withGateway([], async (url) => {
      const a = (await open(`${url}/own?token=${KEY}`)).connection!;
      const b = (await open(`${url}/own?token=${KEY}`)).connection!;
      const onA = await Promise.all([send(a), send(a), send(a)]);
      const onB = await Promise.all([send(b), send(b)]);
      expect(onA.map((o) => o.bodySnippet!.includes('Too Many'))).toEqual([false, false, true]);
      expect(onB.map((o) => o.bodySnippet!.includes('Too Many'))).toEqual([false, false]);
      await Promise.all([a.close(), b.close()]);
    }));

  it('a message over maxMessageBytes closes the socket with 1009; one at it is answered', () =>
    withGateway([], async (url) => {
      const c = (await open(`${url}/ws`, { 'x-api-key': KEY })).connection!;
      expect((await send(c, 'z'.repeat(2048))).ws!.answer).toBe('frame');
      expect((await send(c, 'z'.repeat(2049))).ws).toMatchObject({ answer: 'close', closeCode: 1009 });
    }));

  it('closes a silent socket after limits.idleTimeoutSec (1001)', () =>
    withGateway([], async (url) => {
      const c = (await open(`${url}/idle`)).connection!;
      const closed = await c.waitForClose(5_000);
      expect(closed?.code).toBe(1001);
    }));

  it('faults: ws-auth-off opens every socket, ws-no-throttle answers every message', () =>
    withGateway(['ws-auth-off', 'ws-no-throttle'], async (url) => {
      const c = (await open(`${url}/ws`)).connection!;
      const answers = await Promise.all(Array.from({ length: 8 }, () => send(c)));
      expect(answers.every((o) => o.bodySnippet === '{"action":"echo"}')).toBe(true);
      await c.close();
    }));
});
