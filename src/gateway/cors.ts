import type { OutgoingHttpHeaders } from 'node:http';
import type { CorsPolicy } from '../policy/types.js';

/**
 * CORS as an API Gateway REST API does it when configured by hand: preflights are answered by a
 * mock integration on OPTIONS (no API key, no throttling), and the actual-response headers are
 * added to the backend's answers and to the gateway's own 4xx responses (DEFAULT_4XX), so a
 * browser can read a 403 or a 429 instead of seeing an opaque network error.
 *
 * `mode` carries the CORS faults: `reflect` echoes any Origin, `star` sends `*` to everyone.
 * (`cors-off` removes the route's CORS entirely; see routes.ts.)
 */
export type CorsMode = 'policy' | 'reflect' | 'star';

export interface CompiledCors {
  mode: CorsMode;
  /** The policy lists `*`: send `*` to any Origin (never combined with credentials: the loader refuses it). */
  allowAnyOrigin: boolean;
  origins: ReadonlySet<string>;
  allowCredentials: boolean;
  /** Preflight header values, joined once at startup. Empty string = header not sent. */
  allowMethods: string;
  allowHeaders: string;
  maxAge: string;
  exposeHeaders: string;
}

export function compileCors(cors: CorsPolicy, mode: CorsMode): CompiledCors {
  return {
    mode,
    allowAnyOrigin: cors.allowOrigins.includes('*'),
    origins: new Set(cors.allowOrigins),
    allowCredentials: cors.allowCredentials,
    allowMethods: cors.allowMethods.join(','),
    allowHeaders: cors.allowHeaders.join(','),
    maxAge: cors.maxAge === undefined ? '' : String(cors.maxAge),
    exposeHeaders: cors.exposeHeaders.join(','),
  };
}

/**
 * The Access-Control-Allow-Origin value for a request from `origin`, or undefined when none may
 * be sent. Exact string comparison, as browsers do: `https://app.example.com.evil.tld` and
 * `http://app.example.com` are different origins from `https://app.example.com`.
 */
export function allowedOrigin(cors: CompiledCors, origin: string | undefined): string | undefined {
  switch (cors.mode) {
    case 'star':
      return '*';
    case 'reflect':
      return origin;
    case 'policy':
      if (origin === undefined) return undefined;
      if (cors.allowAnyOrigin) return '*';
      return cors.origins.has(origin) ? origin : undefined;
  }
}

/** Adds the headers every answer of a CORS route carries (backend answers and gateway errors alike). */
export function addActualResponseHeaders(headers: OutgoingHttpHeaders, cors: CompiledCors, origin: string | undefined): void {
  // The answer depends on the Origin unless everyone gets `*`: caches must key on it.
  if (cors.mode !== 'star') headers['vary'] = 'Origin';
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin === undefined) return;
  headers['access-control-allow-origin'] = allowOrigin;
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders) headers['access-control-expose-headers'] = cors.exposeHeaders;
}

/**
 * Headers of the mock integration's 204 answer to a preflight. A disallowed Origin gets the 204
 * without any Access-Control-Allow-* header: the browser then refuses the actual request.
 */
export function addPreflightHeaders(headers: OutgoingHttpHeaders, cors: CompiledCors, origin: string | undefined): void {
  if (cors.mode !== 'star') headers['vary'] = 'Origin';
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin === undefined) return;
  headers['access-control-allow-origin'] = allowOrigin;
  if (cors.allowMethods) headers['access-control-allow-methods'] = cors.allowMethods;
  if (cors.allowHeaders) headers['access-control-allow-headers'] = cors.allowHeaders;
  if (cors.maxAge) headers['access-control-max-age'] = cors.maxAge;
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
}
