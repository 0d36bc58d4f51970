/**
 * Vendor profiles: how a gateway words its refusals, so a report can say what refused a probe
 * and a check does not read more into a status than it proves. Pure.
 *
 * - aws-rest: a bad or missing API key is 403 `{"message":"Forbidden"}` (INVALID_API_KEY; a WAF
 *   block looks the same). 403 `{"message":"Missing Authentication Token"}` is a missing IAM
 *   signature AND any unknown resource or method, so on its own it proves no auth at all.
 *   Authorizers refuse with 401 Unauthorized or 403 "User is not authorized ..." (ACCESS_DENIED).
 * - aws-http: the JWT authorizer refuses with 401 and `www-authenticate: Bearer ... error=...`;
 *   Lambda authorizers with 401/403; an unknown route is 404 `{"message":"Not Found"}`.
 * - plain: any 401/403 is a refusal; nothing is known about wording.
 *
 * Redirects are never followed (see readRedirect).
 */
import type { Observation } from '../../engine/observation.js';
import type { Vendor } from '../../policy/types.js';

export interface RefusalReading {
  /** AWS gateway response type when the profile recognises one (INVALID_API_KEY, MISSING_AUTHENTICATION_TOKEN, ...). */
  type?: string;
  /** True when the answer is what the gateway says to a request it routes nowhere (unknown path or method). */
  notRouted: boolean;
  /** One line for the report. */
  note: string;
}

function bodyMessage(observation: Observation): string | undefined {
  const body = observation.bodySnippet;
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; Message?: unknown };
    const message = parsed.message ?? parsed.Message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    // A body cut at the snippet size, or HTML: fall back to a plain search.
    return /"message"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  }
}

/** What the vendor profile makes of a 4xx answer; undefined for anything it has nothing to say about. */
export function readRefusal(vendor: Vendor, observation: Observation | undefined): RefusalReading | undefined {
  if (!observation || observation.status === undefined || observation.status < 400 || observation.status >= 500) return undefined;
  const status = observation.status;
  const message = bodyMessage(observation);
  const errorType = observation.headers['x-amzn-errortype'];
  const wwwAuthenticate = observation.headers['www-authenticate'];
  if (vendor === 'aws-rest') {
    if (status === 403 && (errorType?.startsWith('MissingAuthenticationToken') || message === 'Missing Authentication Token')) {
      return {
        type: 'MISSING_AUTHENTICATION_TOKEN',
        notRouted: true,
        note:
          '403 Missing Authentication Token: AWS answers so for an unknown resource or method ' +
          'as well as for a missing IAM signature, so it proves no auth',
      };
    }
    if (status === 403 && message === 'Forbidden')
      return {
        type: 'INVALID_API_KEY',
        notRouted: false,
        note: '403 Forbidden: API key refused (INVALID_API_KEY; a WAF block reads the same)',
      };
    if (status === 401 && message === 'Unauthorized')
      return { type: 'UNAUTHORIZED', notRouted: false, note: '401 Unauthorized: refused by an authorizer' };
    if (status === 403 && message !== undefined && /not authorized|explicit deny/i.test(message)) {
      return { type: 'ACCESS_DENIED', notRouted: false, note: `403 ${message}: denied by an authorizer policy` };
    }
    if (status === 403 && message !== undefined && /security token|signature/i.test(message)) {
      return { type: 'INVALID_SIGNATURE', notRouted: false, note: `403 ${message}: IAM signature refused` };
    }
    return undefined;
  }
  if (vendor === 'aws-http') {
    if (status === 404 && message === 'Not Found') return { notRouted: true, note: '404 Not Found: no such route on this HTTP API' };
    if (status === 401 && wwwAuthenticate !== undefined) {
      const error = /error="([^"]*)"/.exec(wwwAuthenticate)?.[1];
      return {
        type: 'UNAUTHORIZED',
        notRouted: false,
        note: `401 with www-authenticate: refused by the JWT authorizer${error ? ` (${error})` : ''}`,
      };
    }
    if (status === 401)
      return {
        type: 'UNAUTHORIZED',
        notRouted: false,
        note: '401 without www-authenticate: refused by a Lambda authorizer, not the JWT authorizer',
      };
    if (status === 403 && message === 'Forbidden')
      return { type: 'FORBIDDEN', notRouted: false, note: '403 Forbidden: denied by an authorizer' };
    return undefined;
  }
  return undefined;
}

/** True when the vendor says the gateway routed the request nowhere (AWS REST 403 Missing Authentication Token, HTTP API 404). */
export function isNotRouted(vendor: Vendor, observation: Observation | undefined): boolean {
  return readRefusal(vendor, observation)?.notRouted ?? false;
}

export interface RedirectReading {
  /** True when the profile reads the redirect as a refusal (a gateway sending the client to log in). */
  refusal: boolean;
  /** `302 redirect to /login, not followed`. */
  answer: string;
  /** Why the profile reads it so. */
  why: string;
  /** One line for the report: answer and why. */
  note: string;
}

/**
 * What a 3xx means to the auth check; undefined for any other answer. gatecheck never follows a
 * redirect, it records `location`. plain: a redirect (to a login page) is how some gateways and
 * auth proxies refuse, so it is a refusal. aws-rest and aws-http refuse with 401/403:
 * a 3xx there comes from the integration (the request got through) or a customised gateway
 * response, and gatecheck cannot tell which, so it proves nothing: unresolved.
 */
export function readRedirect(vendor: Vendor, observation: Observation | undefined): RedirectReading | undefined {
  const status = observation?.status;
  if (status === undefined || status < 300 || status >= 400) return undefined;
  const location = observation!.headers.location;
  const answer = `${status} redirect ${location ? `to ${location}` : 'without a Location'}, not followed`;
  const refusal = vendor === 'plain';
  const why = refusal
    ? 'a refusal under vendor plain (sent to log in)'
    : `${vendor} refuses with 401/403; a 3xx is the backend's or a custom gateway response`;
  return { refusal, answer, why, note: `${answer}: ${why}` };
}
