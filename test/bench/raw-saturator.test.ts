import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ResponseFramer, runRawSaturate, serialiseRequest } from '../../src/bench/raw-saturator.js';

describe('response framing', () => {
  const frame = (chunks: string[]) => {
    const statuses: number[] = [];
    const framer = new ResponseFramer((s) => statuses.push(s));
    for (const c of chunks) framer.push(Buffer.from(c, 'latin1'));
    return statuses;
  };
  const fixed = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
  const chunked = 'HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';

  it('frames Content-Length and chunked answers, back to back', () => {
    expect(frame([fixed + chunked + fixed])).toEqual([200, 429, 200]);
  });

  it('frames answers cut at every byte boundary', () => {
    const all = fixed + chunked;
    for (let cut = 1; cut < all.length; cut++) expect(frame([all.slice(0, cut), all.slice(cut)]), `cut at ${cut}`).toEqual([200, 429]);
  });

  it('serialises the request once, with Host and keep-alive', () => {
    expect(serialiseRequest(new URL('http://127.0.0.1:8080/a?b=1'), 'GET', { 'x-api-key': 'k' }).toString()).toBe('GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\nx-api-key: k\r\n\r\n');
  });
});

describe('raw saturation against a loopback server', () => {
  it('counts every answer by status and stops at the request cap', async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.statusCode = served % 2 ? 200 : 429;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const result = await runRawSaturate({ url, method: 'GET', headers: {}, connections: 4, durationSec: 5, threads: 1, maxRequests: 400 });
    server.close();
    expect(result.total).toBe(400);
    expect(served).toBe(400);
    expect(result.statusCounts).toEqual({ 200: 200, 429: 200 });
  });
});
