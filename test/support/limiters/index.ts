/**
 * Real rate limiters for tests, one module each, behind one call:
 *
 *   const limiter = await startLimiter(LIMITER_PRESETS['haproxy/all-requests']);
 *   // limiter.url: every path but /health is limited per `x-api-key`; 200 {"ok":true} when accepted.
 *   // limiter.truth: what its configuration means (algorithm, rate, burst/limit, window, refusal status…).
 *   await limiter.stop();
 *
 * Each limiter runs in processes of its own on 127.0.0.1 (a free port), in a throw-away directory, and is
 * killed when the test process exits without stop(). A limiter whose binary is missing cannot start:
 * tests skip on `limiterAvailable(kind) === false` unless CI is set (then they fail; .ci/run installs them).
 */
import { EXPRESS_RATE_LIMIT_PRESETS, startExpressRateLimit, type ExpressRateLimitSpec } from './express-rate-limit.js';
import { FASTIFY_RATE_LIMIT_PRESETS, startFastifyRateLimit, type FastifyRateLimitSpec } from './fastify-rate-limit.js';
import { HAPROXY_BINARY, HAPROXY_PRESETS, haproxyAvailable, startHaproxy, type HaproxySpec } from './haproxy.js';
import {
  NGINX_BINARY,
  NGINX_LIMIT_REQ_PRESETS,
  nginxLimitReqAvailable,
  startNginxLimitReq,
  type NginxLimitReqSpec,
} from './nginx-limit-req.js';
import { REDIS_BINARY, REDIS_PRESETS, redisAvailable, startRedisLimiter, type RedisLimiterSpec } from './redis.js';
import type { RunningLimiter } from './types.js';
import { VARNISH_PATHS, VARNISH_PRESETS, startVarnish, varnishAvailable, type VarnishSpec } from './varnish.js';

export type { LimiterAlgorithm, LimiterTruth, RunningLimiter } from './types.js';

export type LimiterSpec = NginxLimitReqSpec | HaproxySpec | ExpressRateLimitSpec | FastifyRateLimitSpec | VarnishSpec | RedisLimiterSpec;
export type LimiterKind = LimiterSpec['limiter'];

/** The two (nginx: three) settings of every limiter, by `<kind>/<setting>`. */
export const LIMITER_PRESETS = {
  ...prefixed('nginx-limit-req', NGINX_LIMIT_REQ_PRESETS),
  ...prefixed('haproxy', HAPROXY_PRESETS),
  ...prefixed('express-rate-limit', EXPRESS_RATE_LIMIT_PRESETS),
  ...prefixed('fastify-rate-limit', FASTIFY_RATE_LIMIT_PRESETS),
  ...prefixed('varnish-vsthrottle', VARNISH_PRESETS),
  ...prefixed('redis', REDIS_PRESETS),
};
export type LimiterPresetName = keyof typeof LIMITER_PRESETS;

/** What each kind needs installed (npm packages come with `npm ci`). */
export const LIMITER_REQUIREMENTS: Record<LimiterKind, string> = {
  'nginx-limit-req': `${NGINX_BINARY} (Debian nginx-light)`,
  haproxy: `${HAPROXY_BINARY} (Debian haproxy)`,
  'express-rate-limit': 'npm devDependencies express, express-rate-limit',
  'fastify-rate-limit': 'npm devDependencies fastify, @fastify/rate-limit',
  'varnish-vsthrottle': `${Object.values(VARNISH_PATHS).join(', ')} (Debian varnish varnish-modules)`,
  redis: `${REDIS_BINARY} (Debian redis-server), npm devDependency redis`,
};

export function limiterAvailable(kind: LimiterKind): boolean {
  switch (kind) {
    case 'nginx-limit-req':
      return nginxLimitReqAvailable();
    case 'haproxy':
      return haproxyAvailable();
    case 'varnish-vsthrottle':
      return varnishAvailable();
    case 'redis':
      return redisAvailable();
    case 'express-rate-limit':
    case 'fastify-rate-limit':
      return true;
  }
}

/** Starts the limiter `spec` describes; resolves once it answers. `name` labels it (default: the preset's name). */
export async function startLimiter(spec: LimiterSpec, name: string = presetName(spec) ?? spec.limiter): Promise<RunningLimiter> {
  if (!limiterAvailable(spec.limiter)) throw new Error(`${spec.limiter} is not installed (needs ${LIMITER_REQUIREMENTS[spec.limiter]})`);
  switch (spec.limiter) {
    case 'nginx-limit-req':
      return startNginxLimitReq(spec, name);
    case 'haproxy':
      return startHaproxy(spec, name);
    case 'express-rate-limit':
      return startExpressRateLimit(spec, name);
    case 'fastify-rate-limit':
      return startFastifyRateLimit(spec, name);
    case 'varnish-vsthrottle':
      return startVarnish(spec, name);
    case 'redis':
      return startRedisLimiter(spec, name);
  }
}

function presetName(spec: LimiterSpec): string | undefined {
  return Object.entries(LIMITER_PRESETS).find(([, preset]) => preset === spec)?.[0];
}

function prefixed<K extends string, P extends Record<string, LimiterSpec>>(
  kind: K,
  presets: P,
): { [S in keyof P & string as `${K}/${S}`]: P[S] } {
  return Object.fromEntries(Object.entries(presets).map(([setting, spec]) => [`${kind}/${setting}`, spec])) as {
    [S in keyof P & string as `${K}/${S}`]: P[S];
  };
}
