/**
 * express-rate-limit (npm) in an Express 5 child process: a fixed window per key, opened by the key's
 * first request (MemoryStore, v7 and later). See node/express-server.ts.
 */
import { makeDir, removeDir, runningLimiter } from './process.js';
import { startNodeChild } from './node-process.js';
import type { ExpressLimiterSettings } from './node/express-server.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export interface ExpressRateLimitSpec {
  limiter: 'express-rate-limit';
  limit: number;
  windowSec: number;
  status: number;
}

export const EXPRESS_RATE_LIMIT_PRESETS = {
  /** `rateLimit({ windowMs: 1000, limit: 20 })`: 20 per key per 1 s window, 429. */
  'window-1s': { limiter: 'express-rate-limit', limit: 20, windowSec: 1, status: 429 },
  /** `rateLimit({ windowMs: 2000, limit: 30, statusCode: 503 })`: 30 per key per 2 s window, 503. */
  'window-2s-503': { limiter: 'express-rate-limit', limit: 30, windowSec: 2, status: 503 },
} as const satisfies Record<string, ExpressRateLimitSpec>;

export function expressRateLimitTruth(spec: ExpressRateLimitSpec): LimiterTruth {
  return {
    algorithm: 'fixed-window',
    configured: `rateLimit({ windowMs: ${spec.windowSec * 1000}, limit: ${spec.limit}, statusCode: ${spec.status} }), keyed on x-api-key`,
    ratePerSec: spec.limit / spec.windowSec,
    coldBurst: spec.limit,
    windowSec: spec.windowSec,
    limit: spec.limit,
    windowAnchor: 'first-request',
    countsRejected: false,
    status: spec.status,
    headers: ['ratelimit-policy', 'ratelimit'],
    notes: [
      'MemoryStore counts refused requests too, but a fixed window admits the same either way (only RateLimit remaining shows it)',
      'a volley straddling the end of a window gets up to 2x the limit',
    ],
  };
}

export async function startExpressRateLimit(spec: ExpressRateLimitSpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('express-rate-limit');
  try {
    const settings: ExpressLimiterSettings = { limit: spec.limit, windowMs: spec.windowSec * 1000, statusCode: spec.status };
    const { proc, port } = await startNodeChild('express-server', settings);
    return runningLimiter(name, expressRateLimitTruth(spec), proc, port, dir);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}
