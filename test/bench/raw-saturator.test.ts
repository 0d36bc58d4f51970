import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runRawSaturate } from '../../src/bench/raw-saturator.js';

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
