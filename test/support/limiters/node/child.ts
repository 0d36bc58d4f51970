/**
 * The plumbing every limiter child process shares: read its settings from argv, report the port it listens
 * on as one JSON line on stdout (the parent waits for that line), and stop on SIGTERM.
 *
 * Listening on port 0 lets the OS pick a free port: no race with other tests, no retry.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The settings the parent passed as argv[2] (JSON). */
export function childSettings<T>(): T {
  const text = process.argv[2];
  if (text === undefined) throw new Error('usage: <child>.ts <settings JSON>');
  return JSON.parse(text) as T;
}

/** Writes `{"listening":port}` once `server` listens, and closes it (then exits) on SIGTERM or SIGINT. */
export function announce(server: Server, close: () => Promise<void> = () => Promise.resolve()): void {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
  const stop = (): void => {
    server.closeAllConnections();
    void close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
