/**
 * The API Gateway REST "gateway responses" the reference gateway sends, with AWS's default bodies
 * and `x-amzn-errortype` values. Bodies are encoded once: every refusal reuses the same Buffer.
 */
export interface GatewayResponse {
  /** AWS gateway response type, for readers (WAF_FILTERED, THROTTLED, ...). */
  type: string;
  status: number;
  /** `x-amzn-errortype` header value. */
  errorType: string;
  body: Buffer;
}

export function gatewayResponse(type: string, status: number, errorType: string, message: string): GatewayResponse {
  return { type, status, errorType, body: Buffer.from(JSON.stringify({ message })) };
}

/** Unknown resource or unconfigured method: the same 403 as a missing IAM signature, on purpose. */
export const MISSING_AUTHENTICATION_TOKEN = gatewayResponse(
  'MISSING_AUTHENTICATION_TOKEN',
  403,
  'MissingAuthenticationTokenException',
  'Missing Authentication Token',
);
/** Missing or wrong API key. */
export const INVALID_API_KEY = gatewayResponse('INVALID_API_KEY', 403, 'ForbiddenException', 'Forbidden');
/** Blocked by the web ACL. */
export const WAF_FILTERED = gatewayResponse('WAF_FILTERED', 403, 'ForbiddenException', 'Forbidden');
/** Token bucket empty. */
export const THROTTLED = gatewayResponse('THROTTLED', 429, 'TooManyRequestsException', 'Too Many Requests');
/** Usage-plan quota used up for the period. */
export const QUOTA_EXCEEDED = gatewayResponse('QUOTA_EXCEEDED', 429, 'LimitExceededException', 'Limit Exceeded');
/** What a REST API answers when the integration fails (e.g. a Lambda proxy error). */
export const INTEGRATION_FAILURE = gatewayResponse('INTEGRATION_FAILURE', 502, 'InternalServerErrorException', 'Internal server error');

export const JSON_CONTENT_TYPE = 'application/json';
