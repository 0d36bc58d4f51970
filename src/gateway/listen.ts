import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** A server listening on a loopback (or given) address, that can be shut down promptly. */
export interface Listening {
  url: string;
  port: number;
  /** Stops listening and destroys every open socket. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listens and tracks sockets: server.close() only stops accepting, so keep-alive connections
 * and requests left hanging on purpose (the `hang` fault) would otherwise hold it open.
 */
export async function listenTracked(server: Server, port: number, host: string, what: string): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${what} is not listening on a TCP port`);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}
