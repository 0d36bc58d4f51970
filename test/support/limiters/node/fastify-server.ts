/**
 * Child process: Fastify 5 with @fastify/rate-limit, keyed on `x-api-key` (settings in argv[2]).
 *
 * Its LocalStore gives every key a fixed window opened by the key's first request. With
 * `continueExceeding`, every refused request restarts the key's window: a client that keeps sending above
 * the limit stays refused until it pauses for a whole window.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { announce, childSettings } from './child.js';

export interface FastifyLimiterSettings {
  max: number;
  timeWindowMs: number;
  continueExceeding: boolean;
}

const settings = childSettings<FastifyLimiterSettings>();
const app = Fastify({ logger: false, keepAliveTimeout: 10_000 });
await app.register(rateLimit, {
  global: true,
  max: settings.max,
  timeWindow: settings.timeWindowMs,
  continueExceeding: settings.continueExceeding,
  keyGenerator: (req) => String(req.headers['x-api-key']),
  // Requests without a key are not limited (as with every limiter of the harness).
  allowList: (req) => req.headers['x-api-key'] === undefined,
});
app.get('/health', { config: { rateLimit: false } }, () => ({ status: 'ok' }));
app.all('/*', () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server, () => app.close());
