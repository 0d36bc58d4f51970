/**
 * What a browser enforces, after the Fetch standard's "CORS check" and "CORS-preflight fetch"
 * (https://fetch.spec.whatwg.org/#cors-check). Pure functions over response headers, so the
 * rules are tested as tables and the check only decides which requests to make.
 */

/** Outcome of one browser-side check: did the browser let the page read the response? */
export interface FetchVerdict {
  allowed: boolean;
  reason: string;
}

/** Methods a browser sends without listing them in a preflight. */
const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);
/** Request headers that never need Access-Control-Allow-Headers (content-type only with form/text values). */
const ALWAYS_SAFELISTED_HEADERS = new Set(['accept', 'accept-language', 'content-language']);

/** Browser caps on Access-Control-Max-Age, in seconds. */
export const MAX_AGE_CAPS_SEC = { chromium: 7200, firefox: 86400 } as const;

/** The CORS check on an actual response (or the preflight response). */
export function browserCorsCheck(headers: Record<string, string>, origin: string, credentialed: boolean): FetchVerdict {
  const allowOrigin = headers['access-control-allow-origin'];
  if (allowOrigin === undefined) return { allowed: false, reason: 'no Access-Control-Allow-Origin' };
  if (allowOrigin.includes(',')) return { allowed: false, reason: `Access-Control-Allow-Origin has several values ("${allowOrigin}")` };
  if (allowOrigin === '*' && !credentialed) return { allowed: true, reason: 'Access-Control-Allow-Origin: * (no credentials)' };
  if (allowOrigin === '*') return { allowed: false, reason: 'Access-Control-Allow-Origin: * is not accepted for a credentialed request' };
  if (allowOrigin !== origin)
    return { allowed: false, reason: `Access-Control-Allow-Origin is "${allowOrigin}", not the request's origin` };
  if (credentialed && headers['access-control-allow-credentials'] !== 'true') {
    return { allowed: false, reason: 'credentialed request but Access-Control-Allow-Credentials is not "true"' };
  }
  return { allowed: true, reason: `Access-Control-Allow-Origin: ${allowOrigin}${credentialed ? ' with Allow-Credentials: true' : ''}` };
}

/** Header names a browser would list in Access-Control-Request-Headers for these request headers. */
export function nonSafelistedHeaders(headerNames: string[]): string[] {
  return [...new Set(headerNames.map((h) => h.toLowerCase()))].filter((h) => !ALWAYS_SAFELISTED_HEADERS.has(h)).sort();
}

/** The preflight: status ok, CORS check, then method and header lists. */
export function preflightCheck(
  status: number,
  headers: Record<string, string>,
  origin: string,
  method: string,
  requestHeaders: string[],
  credentialed: boolean,
): FetchVerdict {
  if (status < 200 || status > 299) return { allowed: false, reason: `preflight answered ${status}, not 2xx` };
  const cors = browserCorsCheck(headers, origin, credentialed);
  if (!cors.allowed) return cors;

  const methods = splitList(headers['access-control-allow-methods']);
  const methodCovered =
    SAFELISTED_METHODS.has(method) || methods.includes(method.toUpperCase()) || (!credentialed && methods.includes('*'));
  if (!methodCovered)
    return {
      allowed: false,
      reason: `method ${method} not in Access-Control-Allow-Methods (${headers['access-control-allow-methods'] ?? 'absent'})`,
    };

  const allowedHeaders = splitList(headers['access-control-allow-headers']).map((h) => h.toLowerCase());
  for (const name of nonSafelistedHeaders(requestHeaders)) {
    // `*` covers any header only for requests without credentials, and never Authorization.
    const byWildcard = !credentialed && allowedHeaders.includes('*') && name !== 'authorization';
    if (!allowedHeaders.includes(name) && !byWildcard) {
      return {
        allowed: false,
        reason: `header ${name} not in Access-Control-Allow-Headers (${headers['access-control-allow-headers'] ?? 'absent'})`,
      };
    }
  }
  return {
    allowed: true,
    reason: `${cors.reason}; allows ${method}${requestHeaders.length ? ` and ${nonSafelistedHeaders(requestHeaders).join(', ')}` : ''}`,
  };
}

/** Max-Age as a browser applies it: default 5 s when absent, capped per engine. */
export function effectiveMaxAgeSec(headers: Record<string, string>): { declared?: number; chromium: number; firefox: number } {
  const raw = headers['access-control-max-age'];
  const declared = raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw) : undefined;
  const value = declared ?? 5;
  return {
    ...(declared !== undefined ? { declared } : {}),
    chromium: Math.min(value, MAX_AGE_CAPS_SEC.chromium),
    firefox: Math.min(value, MAX_AGE_CAPS_SEC.firefox),
  };
}

/** True when `Vary` lists Origin (or `*`). */
export function variesOnOrigin(headers: Record<string, string>): boolean {
  return splitList(headers['vary']).some((v) => v.toLowerCase() === 'origin' || v === '*');
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
