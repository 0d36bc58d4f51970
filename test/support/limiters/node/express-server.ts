/**
 * Child process: an Express 5 app behind express-rate-limit, keyed on `x-api-key` (settings in argv[2]).
 *
 * express-rate-limit's MemoryStore (v7 and later) gives every key its own fixed window, opened by that
 * key's first request; it counts every request before checking, refused ones included.
 */
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { createServer } from 'node:http';
import { announce, childSettings } from './child.js';

export interface ExpressLimiterSettings {
  limit: number;
  windowMs: number;
  statusCode: number;
}

const settings = childSettings<ExpressLimiterSettings>();
const app = express();
app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});
app.use(
  rateLimit({
    windowMs: settings.windowMs,
    limit: settings.limit,
    statusCode: settings.statusCode,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.get('x-api-key') ?? '',
    // Requests without a key are not limited (as with every limiter of the harness).
    skip: (req) => req.get('x-api-key') === undefined,
    message: { message: 'Too Many Requests' },
  }),
);
app.use((_req, res) => {
  res.json({ ok: true });
});
const server = createServer(app);
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => announce(server));
