/**
 * @fastify/rate-limit (npm) in a Fastify 5 child process: a fixed window per key, opened by the key's first
 * request (LocalStore); with `continueExceeding`, each refused request restarts the window. See
 * node/fastify-server.ts.
 */
import { makeDir, removeDir, runningLimiter } from './process.js';
import { startNodeChild } from './node-process.js';
import type { FastifyLimiterSettings } from './node/fastify-server.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export interface FastifyRateLimitSpec {
  limiter: 'fastify-rate-limit';
  max: number;
  windowSec: number;
  continueExceeding: boolean;
}

export const FASTIFY_RATE_LIMIT_PRESETS = {
  /** `{ max: 20, timeWindow: 1000 }`: 20 per key per 1 s window, 429. */
  'window-1s': { limiter: 'fastify-rate-limit', max: 20, windowSec: 1, continueExceeding: false },
  /** `{ max: 15, timeWindow: 1000, continueExceeding: true }`: each refusal restarts the key's 1 s window. */
  'continue-exceeding': { limiter: 'fastify-rate-limit', max: 15, windowSec: 1, continueExceeding: true },
} as const satisfies Record<string, FastifyRateLimitSpec>;

export function fastifyRateLimitTruth(spec: FastifyRateLimitSpec): LimiterTruth {
  return {
    algorithm: 'fixed-window',
    configured: `{ max: ${spec.max}, timeWindow: ${spec.windowSec * 1000}, continueExceeding: ${spec.continueExceeding} }, per x-api-key`,
    ratePerSec: spec.max / spec.windowSec,
    coldBurst: spec.max,
    windowSec: spec.windowSec,
    limit: spec.max,
    windowAnchor: 'first-request',
    countsRejected: spec.continueExceeding,
    status: 429,
    ...(spec.continueExceeding ? { lockoutSec: spec.windowSec } : {}),
    headers: ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'],
    notes: spec.continueExceeding
      ? ['every refused request restarts the window: a client above the limit is refused until it pauses a whole window']
      : ['a volley straddling the end of a window gets up to 2x the limit'],
  };
}

export async function startFastifyRateLimit(spec: FastifyRateLimitSpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('fastify-rate-limit');
  try {
    const settings: FastifyLimiterSettings = {
      max: spec.max,
      timeWindowMs: spec.windowSec * 1000,
      continueExceeding: spec.continueExceeding,
    };
    const { proc, port } = await startNodeChild('fastify-server', settings);
    return runningLimiter(name, fastifyRateLimitTruth(spec), proc, port, dir);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}
