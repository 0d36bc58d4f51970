import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback server that only counts what reaches it: for tests where any request at all is a failure. */
export interface CountingServer {
  url: string;
  hits(): number;
  close(): Promise<void>;
}

export async function startCountingServer(): Promise<CountingServer> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
