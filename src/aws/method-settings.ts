import type { DeployedThrottle, Sourced } from './deployed.js';

/**
 * REST stage method settings: `GetStage.methodSettings` is keyed `*\/*` (the whole stage) or
 * `<resource path>/<METHOD>` with the path's leading slash dropped (`orders/GET`,
 * `orders/{id}/GET`). Patch paths escape `/` as `~1` (`/~1orders/GET/throttling/rateLimit`), and
 * some emulators (moto) store the key as it was written (`~1orders/GET`), so both spellings are read.
 * The most specific setting wins: `<path>/<METHOD>` over `*\/*`, field by field (a method that sets
 * only its rate keeps the stage's burst, as API Gateway does).
 */

export interface MethodSetting {
  throttlingRateLimit?: number;
  throttlingBurstLimit?: number;
}

/** `~1orders~1{id}/GET` or `orders/{id}/GET` → { path: '/orders/{id}', method: 'GET' }; `*\/*` → undefined. */
export function parseMethodSettingKey(key: string): { path: string; method: string } | undefined {
  const unescaped = key.replace(/~1/g, '/').replace(/~0/g, '~');
  const slash = unescaped.lastIndexOf('/');
  if (slash < 0) return undefined;
  const path = unescaped.slice(0, slash);
  const method = unescaped.slice(slash + 1).toUpperCase();
  if (path === '*' || method === '*') return undefined;
  return { path: path.startsWith('/') ? path : `/${path}`, method };
}

/** The throttle for one method from a stage's method settings, most specific first; undefined: none set. */
export function throttleFor(
  settings: Record<string, MethodSetting> | undefined,
  path: string,
  method: string,
): Sourced<DeployedThrottle> | undefined {
  if (!settings) return undefined;
  const stage = settings['*/*'];
  const key = Object.keys(settings).find((k) => {
    const parsed = parseMethodSettingKey(k);
    return parsed !== undefined && parsed.path === path && parsed.method === method.toUpperCase();
  });
  const own = key === undefined ? undefined : settings[key];
  const rate = own?.throttlingRateLimit ?? stage?.throttlingRateLimit;
  const burst = own?.throttlingBurstLimit ?? stage?.throttlingBurstLimit;
  if (rate === undefined || burst === undefined) return undefined;
  const ownBoth = own?.throttlingRateLimit !== undefined && own.throttlingBurstLimit !== undefined;
  const source =
    key === undefined
      ? 'GetStage methodSettings */*'
      : ownBoth
        ? `GetStage methodSettings ${key}`
        : `GetStage methodSettings ${key} over */*`;
  return { value: { rateLimit: rate, burstLimit: burst }, source };
}

/**
 * A usage plan's per-method throttle (`apiStages[].throttle`), keyed `<path>/<METHOD>` with the
 * leading slash (`/orders/GET`); both spellings accepted like the stage's keys.
 */
export function planMethodThrottle(
  throttles: Record<string, DeployedThrottle>,
  path: string,
  method: string,
): { key: string; throttle: DeployedThrottle } | undefined {
  for (const [key, throttle] of Object.entries(throttles)) {
    const parsed = parseMethodSettingKey(key);
    if (parsed && parsed.path === path && parsed.method === method.toUpperCase()) return { key, throttle };
  }
  return undefined;
}
