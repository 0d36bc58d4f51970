/**
 * Starts one of the limiter children in test/support/limiters/node/ as its own Node process, run through
 * tsx. A child process rather than a server inside the test: the limiter must keep its own event loop and
 * clock. In-process, the volley the test sends and the limiter's handling would share one event loop, so
 * the limiter's `Date.now()` at arrival would lag by whatever the test was doing (and the test's send and
 * answer times by whatever the limiter was doing), and a request "sent" would not be one that "arrived".
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureLog, launch, type Launched } from './process.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root: tsx is resolved from there. */
const ROOT = join(HERE, '..', '..', '..');

export type NodeChild = 'express-server' | 'fastify-server' | 'redis-limiter-server';

/** Starts `node --import tsx node/<child>.ts <settings>`; resolves with it and its port once it listens. */
export async function startNodeChild(
  child: NodeChild,
  settings: object,
  env: NodeJS.ProcessEnv = {},
): Promise<{ proc: Launched; port: number }> {
  let port = 0;
  const started = await launch({
    name: child,
    command: process.execPath,
    args: ['--import', 'tsx', join(HERE, 'node', `${child}.ts`), JSON.stringify(settings)],
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    ready: (output) => {
      const line = /^\{"listening":(\d+)\}$/m.exec(output());
      if (line?.[1] !== undefined) port = Number(line[1]);
      return Promise.resolve(port > 0 ? undefined : 'no "listening" line yet');
    },
  });
  if (!started.ok) throw new Error(failureLog(child, started.reason, started.output));
  return { proc: started.proc, port };
}
