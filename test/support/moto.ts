/**
 * moto 5's server (`python3 -m moto.server`) on a free loopback port, started by the tests that talk AWS over the
 * wire (CloudWatch, API Gateway, WAFv2); whether python3 can import it at all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const probe = spawnSync('python3', ['-c', 'import moto, sys; sys.stdout.write(moto.__version__)'], { encoding: 'utf8', timeout: 20_000 });
export const motoVersion = probe.status === 0 ? probe.stdout.trim() : undefined;
export const motoProblem = (probe.stderr || probe.error?.message || '').trim().split('\n').pop();

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

/** Started, and answering on its endpoint (up to 15 s). */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitUntilUp(`${endpoint}/moto-api/`, 15_000, () => stderr);
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilUp(url: string, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`moto did not answer on ${url} within ${timeoutMs} ms:\n${stderr()}`);
}
