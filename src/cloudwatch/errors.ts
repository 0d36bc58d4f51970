/**
 * CloudWatch failures as data: every way a pull can go wrong becomes a CloudWatchError with a
 * short code and a sentence a reviewer can act on. The metrics check turns it into an `error`
 * verdict; nothing here throws past the check.
 */

export type CloudWatchErrorCode =
  'NoCredentials' | 'NoRegion' | 'AccessDenied' | 'Throttled' | 'Network' | 'BadQuery' | 'BadResponse' | 'Service';

export class CloudWatchError extends Error {
  constructor(
    readonly code: CloudWatchErrorCode,
    message: string,
    /** The service's own error code (`AccessDenied`, `Throttling`), when it sent one. */
    readonly awsCode?: string,
    /** Attempts the SDK made (its retries included). */
    readonly attempts?: number,
  ) {
    super(message);
    this.name = 'CloudWatchError';
  }
}

const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSignatureException',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceeded',
  'LimitExceededException',
]);
const BAD_QUERY = new Set([
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'MissingParameter',
  'MissingRequiredParameter',
  'ValidationError',
  'InvalidNextToken',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  cause?: { code?: string };
}

/** Turns whatever the SDK threw into a CloudWatchError; `where` names the endpoint or Region. */
export function toCloudWatchError(error: unknown, where: string): CloudWatchError {
  if (error instanceof CloudWatchError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const message = firstLine(e.message ?? String(error));
  const attempts = e.$metadata?.attempts;
  const tried = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';

  if (e.name === 'CredentialsProviderError' || /could not load credentials|credential.*(missing|not found)/i.test(message)) {
    return new CloudWatchError(
      'NoCredentials',
      `no AWS credentials found (environment, --profile / AWS_PROFILE, SSO, instance role): ${message}`,
    );
  }
  if (/region is missing/i.test(message)) {
    return new CloudWatchError('NoRegion', 'no AWS Region: set metrics.cloudwatch.region in the policy, pass --region, or set AWS_REGION');
  }
  const awsCode = e.Code ?? (e.$metadata?.httpStatusCode !== undefined ? e.name : undefined);
  // A body that is not the protocol's JSON (moto's HTML 500 page): the parser's SyntaxError is no service code.
  const unreadable = e.Code === undefined && (e.name === 'SyntaxError' || /deserializ/i.test(e.message ?? ''));
  if (awsCode !== undefined && e.$metadata?.httpStatusCode !== undefined && !unreadable) {
    if (DENIED.has(awsCode)) {
      return new CloudWatchError(
        'AccessDenied',
        `CloudWatch refused GetMetricData (${awsCode}) at ${where}: ${message}` +
          `. The credentials need the IAM permission cloudwatch:GetMetricData.`,
        awsCode,
        attempts,
      );
    }
    if (THROTTLED.has(awsCode)) {
      return new CloudWatchError(
        'Throttled',
        `CloudWatch throttled GetMetricData (${awsCode})${tried}, the SDK's retries included` +
          `; try again later or raise the account's GetMetricData quota`,
        awsCode,
        attempts,
      );
    }
    if (BAD_QUERY.has(awsCode))
      return new CloudWatchError('BadQuery', `CloudWatch rejected the query (${awsCode}): ${message}`, awsCode, attempts);
    return new CloudWatchError(
      'Service',
      `CloudWatch answered ${e.$metadata.httpStatusCode} (${awsCode})${tried} at ${where}: ${message}`,
      awsCode,
      attempts,
    );
  }
  const networkCode = e.cause?.code ?? e.code ?? (NETWORK.has(e.name ?? '') ? e.name : undefined);
  if (networkCode !== undefined && NETWORK.has(networkCode)) {
    return new CloudWatchError('Network', `cannot reach CloudWatch at ${where} (${networkCode})${tried}`, undefined, attempts);
  }
  if (e.$metadata?.httpStatusCode !== undefined || /deserializ|unexpected token|not valid json/i.test(message)) {
    const status = e.$metadata?.httpStatusCode !== undefined ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    const text = `CloudWatch at ${where} sent an answer the SDK could not read${status}${tried}: ${message}`;
    return new CloudWatchError('BadResponse', text, undefined, attempts);
  }
  return new CloudWatchError('Network', `GetMetricData at ${where} failed${tried}: ${message}`, undefined, attempts);
}

/**
 * True when the endpoint was reached, let us in and still could not answer these queries: a 5xx
 * after the SDK's retries, an answer it could not read, a query it refused. moto and LocalStack
 * answer 500 to a percentile; such a failure costs only its own query group (fetch.ts). Missing
 * credentials or Region, AccessDenied, Throttling and network trouble are about the account or
 * the connection, would hit every group alike, and are never degraded.
 */
export function endpointCannotServe(error: CloudWatchError): boolean {
  return error.code === 'Service' || error.code === 'BadResponse' || error.code === 'BadQuery';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}
