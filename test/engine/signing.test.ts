/** The engine's signing hook and extra recorded headers, against a real loopback server. */
import { USER_AGENT } from '../../src/engine/client-headers.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, type WireRequest } from '../../src/engine/http-client.js';

describe('HttpClient: sign and recordHeaders', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ url: string; headers: Record<string, unknown>; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'x-canary': 'true', 'x-other': 'dropped' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs last, over the full URL (base path included), and sends and records what the signer returns', async () => {
    const client = new HttpClient({ baseUrl: base, requestTimeoutMs: 2_000 });
    let signed: WireRequest | undefined;
    const observation = await client.send({
      probe: 'p',
      method: 'POST',
      path: '/a?x=1',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      recordHeaders: ['x-canary'],
      sign: (wire) => {
        signed = wire;
        return Promise.resolve({ headers: { ...wire.headers, authorization: 'AWS4-HMAC-SHA256 test' }, body: '{"a":2}' });
      },
    });
    await client.close();
    expect(signed!.url.href).toBe(`${base}/a?x=1`);
    // Signed over every header the request carries, gatecheck's User-Agent included (it is set before signing).
    expect(signed!.headers).toEqual({ 'content-type': 'application/json', 'user-agent': USER_AGENT });
    expect(seen.at(-1)).toMatchObject({ url: '/prod/a?x=1', body: '{"a":2}', headers: { authorization: 'AWS4-HMAC-SHA256 test' } });
    expect(observation.requestHeaders).toEqual({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      authorization: 'AWS4-HMAC-SHA256 test',
    });
    expect(observation.headers['x-canary']).toBe('true');
    expect(observation.headers['x-other']).toBeUndefined();
  });
});
