/**
 * A Redis-backed limiter: Debian's redis-server, started here (no persistence, loopback only), and a small
 * node:http server in a child process that runs a Lua script per request (node/redis-limiter-server.ts):
 * - `gcra`: redis-cell's GCRA semantics, a continuous token bucket of max_burst+1;
 * - `spring`: Spring Cloud Gateway's RedisRateLimiter script, copied unchanged (lua/ has its source and
 *   licence): a token bucket whose clock is whole seconds (Redis TIME), so the refill comes as `rate`
 *   tokens at each wall-clock second boundary — a timer refill with the wall clock's phase.
 */
import { existsSync } from 'node:fs';
import type { RedisLimiterSettings } from './node/redis-limiter-server.js';
import { startNodeChild } from './node-process.js';
import { failureLog, launch, makeDir, removeDir, withFreePort, type Launched } from './process.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export const REDIS_BINARY = '/usr/bin/redis-server';

export type RedisLimiterSpec =
  | { limiter: 'redis'; script: 'gcra'; maxBurst: number; countPerPeriod: number; periodSec: number }
  | { limiter: 'redis'; script: 'spring'; replenishRate: number; burstCapacity: number };

export const REDIS_PRESETS = {
  /** GCRA, CL.THROTTLE key 9 20 1: 20 per second, 10 at once. */
  gcra: { limiter: 'redis', script: 'gcra', maxBurst: 9, countPerPeriod: 20, periodSec: 1 },
  /** Spring Cloud Gateway `redis-rate-limiter.replenishRate: 10, burstCapacity: 20`. */
  spring: { limiter: 'redis', script: 'spring', replenishRate: 10, burstCapacity: 20 },
} as const satisfies Record<string, RedisLimiterSpec>;

export function redisAvailable(): boolean {
  return existsSync(REDIS_BINARY);
}

export function redisTruth(spec: RedisLimiterSpec): LimiterTruth {
  if (spec.script === 'gcra') {
    return {
      algorithm: 'token-bucket',
      configured: `CL.THROTTLE <key> ${spec.maxBurst} ${spec.countPerPeriod} ${spec.periodSec} 1 (GCRA, lua/gcra.lua)`,
      ratePerSec: spec.countPerPeriod / spec.periodSec,
      burst: spec.maxBurst + 1,
      coldBurst: spec.maxBurst + 1,
      status: 429,
      headers: ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'],
      notes: ['GCRA: delay variation tolerance (max_burst+1)*T; a new or idle key gets max_burst+1 at once', 'clock: Redis TIME in µs'],
    };
  }
  return {
    algorithm: 'timer-refill',
    configured: `RedisRateLimiter(replenishRate ${spec.replenishRate}, burstCapacity ${spec.burstCapacity}, requestedTokens 1)`,
    ratePerSec: spec.replenishRate,
    burst: spec.burstCapacity,
    coldBurst: spec.burstCapacity,
    fillIntervalSec: 1,
    tokensPerFill: spec.replenishRate,
    fillPhase: 'wall-clock-second',
    status: 429,
    headers: ['x-ratelimit-remaining', 'x-ratelimit-replenish-rate', 'x-ratelimit-burst-capacity', 'x-ratelimit-requested-tokens'],
    notes: [
      'token bucket with now = Redis TIME in whole seconds: +rate tokens at each second boundary, capped at burstCapacity',
      `state expires after floor(2*burst/rate) = ${Math.floor((2 * spec.burstCapacity) / spec.replenishRate)} s idle (cold again)`,
    ],
  };
}

export async function startRedisLimiter(spec: RedisLimiterSpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('redis-limiter');
  let redis: Launched | undefined;
  try {
    const started = await withFreePort(async (port) => {
      const result = await launch({
        name: 'redis-server',
        command: REDIS_BINARY,
        // No persistence, no protected-mode surprises, nothing outside the temp dir; logs to stdout.
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
        ready: (output) => Promise.resolve(/Ready to accept connections/.test(output()) ? undefined : 'not ready yet'),
      });
      if (!result.ok) return { ok: false as const, log: failureLog('redis-server', result.reason, result.output) };
      return { ok: true as const, value: { proc: result.proc, port } };
    });
    redis = started.proc;
    const settings: RedisLimiterSettings =
      spec.script === 'gcra'
        ? {
            script: 'gcra',
            redisPort: started.port,
            maxBurst: spec.maxBurst,
            countPerPeriod: spec.countPerPeriod,
            periodSec: spec.periodSec,
          }
        : { script: 'spring', redisPort: started.port, replenishRate: spec.replenishRate, burstCapacity: spec.burstCapacity };
    const server = await startNodeChild('redis-limiter-server', settings);
    const redisProc = redis;
    return {
      name,
      url: `http://127.0.0.1:${server.port}`,
      truth: redisTruth(spec),
      pids: [...server.proc.tree(), ...redisProc.tree()],
      ports: [server.port, started.port],
      dir,
      log: () => `--- limiter server ---\n${server.proc.output()}--- redis-server ---\n${redisProc.output()}`,
      stop: async () => {
        await server.proc.stop();
        await redisProc.stop();
        removeDir(dir);
      },
    };
  } catch (error) {
    await redis?.stop();
    removeDir(dir);
    throw error;
  }
}
