/**
 * Child process: a plain node:http server that asks Redis, through a Lua script, whether each request
 * may pass (settings in argv[2]). Two scripts (test/support/limiters/lua/):
 * - `gcra`: GCRA with redis-cell's semantics (max_burst+1 at once, then count per period, continuously);
 * - `spring`: Spring Cloud Gateway's RedisRateLimiter script, unchanged: a token bucket whose clock is
 *   Redis TIME in whole seconds, so refills arrive in chunks of `rate` tokens on second boundaries.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createClient } from 'redis';
import { announce, childSettings } from './child.js';

export type RedisLimiterSettings =
  | { script: 'gcra'; redisPort: number; maxBurst: number; countPerPeriod: number; periodSec: number }
  | { script: 'spring'; redisPort: number; replenishRate: number; burstCapacity: number };

const settings = childSettings<RedisLimiterSettings>();
const lua = readFileSync(
  new URL(`../lua/${settings.script === 'gcra' ? 'gcra.lua' : 'spring-request-rate-limiter.lua'}`, import.meta.url),
  'utf8',
);
const client = createClient({ socket: { host: '127.0.0.1', port: settings.redisPort } });
client.on('error', (error: Error) => process.stderr.write(`redis client: ${error.message}\n`));
await client.connect();
const sha = await client.scriptLoad(lua);

/** Runs the script for one key; the answer's status and headers. */
async function decide(key: string): Promise<{ allowed: boolean; headers: Record<string, string> }> {
  if (settings.script === 'gcra') {
    const reply = (await client.evalSha(sha, {
      keys: [`gcra.{${key}}`],
      arguments: [String(settings.maxBurst), String(settings.countPerPeriod), String(settings.periodSec)],
    })) as number[];
    const [allowed, limit, remaining, retryAfterMs, resetAfterMs] = reply;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.ceil((resetAfterMs ?? 0) / 1000)),
    };
    if (allowed !== 1) headers['retry-after'] = String(Math.ceil((retryAfterMs ?? 0) / 1000));
    return { allowed: allowed === 1, headers };
  }
  // As RedisRateLimiter calls it: two keys per id, `now` left empty so the script reads Redis TIME.
  const prefix = `request_rate_limiter.{limiter.${key}}.`;
  const reply = (await client.evalSha(sha, {
    keys: [`${prefix}tokens`, `${prefix}timestamp`],
    arguments: [String(settings.replenishRate), String(settings.burstCapacity), '', '1'],
  })) as number[];
  const [allowed, tokensLeft] = reply;
  return {
    allowed: allowed === 1,
    headers: {
      'x-ratelimit-remaining': String(tokensLeft),
      'x-ratelimit-replenish-rate': String(settings.replenishRate),
      'x-ratelimit-burst-capacity': String(settings.burstCapacity),
      'x-ratelimit-requested-tokens': '1',
    },
  };
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const key = req.headers['x-api-key'];
  // Requests without a key are not limited (as with every limiter of the harness).
  if (req.url === '/health' || typeof key !== 'string') return answer(res, 200, req.url === '/health' ? { status: 'ok' } : { ok: true });
  const { allowed, headers } = await decide(key);
  if (allowed) answer(res, 200, { ok: true }, headers);
  else answer(res, 429, { message: 'Too Many Requests' }, headers);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: Error) => answer(res, 500, { message: error.message }));
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => announce(server, () => client.quit().then(() => undefined)));
