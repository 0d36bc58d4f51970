import type { Unreadable } from './deployed.js';

/**
 * AWS failures while reading configuration, as data. A read the caller cannot do without (the API
 * or its stage) throws AwsReadError; every other read that fails becomes an Unreadable entry that
 * names the setting, the call and why, so a report says "not read" instead of guessing.
 */
export class AwsReadError extends Error {
  constructor(
    message: string,
    readonly code: Unreadable['code'] | 'NoCredentials' | 'NoRegion' | 'Network',
  ) {
    super(message);
    this.name = 'AwsReadError';
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
  'MissingAuthenticationToken',
  'InvalidSignatureException',
  'Forbidden',
  'ForbiddenException',
]);
const MISSING = /^(NotFoundException|ResourceNotFoundException|WAFNonexistentItemException)$/;

interface SdkErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: { code?: string };
}

/** What kind of failure the SDK reported, and one line about it. */
export function classifyAwsError(error: unknown): { code: Unreadable['code'] | 'NoCredentials' | 'NoRegion' | 'Network'; reason: string } {
  const e = (error ?? {}) as SdkErrorShape;
  const message = (e.message ?? String(error)).split('\n')[0]!.slice(0, 300);
  const name = e.Code ?? e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return {
      code: 'NoCredentials',
      reason: `no AWS credentials found (environment, --profile / AWS_PROFILE, SSO, instance role): ${message}`,
    };
  if (/region is missing/i.test(message)) return { code: 'NoRegion', reason: 'no AWS Region: pass --region or set AWS_REGION' };
  if (DENIED.has(name) || status === 403) return { code: 'AccessDenied', reason: `${name || 'HTTP 403'}: ${message}` };
  if (MISSING.test(name)) return { code: 'NotFound', reason: `${name}: ${message}` };
  // An emulator without the operation answers 404 with no service code, 501, or a page the SDK cannot parse
  // (moto: an HTML 500 for a route it maps but does not implement). AWS itself always answers in its protocol.
  if (status === 404 || status === 501 || /not (yet )?implemented|UnknownOperation/i.test(`${name} ${message}`))
    return { code: 'NotImplemented', reason: `${name || `HTTP ${status}`}: ${message}` };
  if (name === 'SyntaxError' || /deserializ/i.test(message))
    return { code: 'NotImplemented', reason: `the endpoint's answer${status ? ` (HTTP ${status})` : ''} is not the API's: ${message}` };
  const net = e.cause?.code ?? e.code;
  if (net && /^E[A-Z]+$/.test(net)) return { code: 'Network', reason: `cannot reach the AWS endpoint (${net})` };
  return { code: 'Error', reason: `${name || 'error'}${status ? ` (HTTP ${status})` : ''}: ${message}` };
}

/**
 * Runs one optional read: its value, or undefined with the failure added to `unreadable`.
 * Missing credentials, Region or network are not per-setting problems: they are thrown.
 */
export async function optionalRead<T>(
  unreadable: Unreadable[],
  setting: string,
  call: string,
  read: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const { code, reason } = classifyAwsError(error);
    if (code === 'NoCredentials' || code === 'NoRegion' || code === 'Network') throw new AwsReadError(reason, code);
    unreadable.push({ setting, call, code, reason });
    return undefined;
  }
}

/** Runs a read the result cannot do without; any failure is an AwsReadError naming the call. */
export async function requiredRead<T>(call: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const { code, reason } = classifyAwsError(error);
    throw new AwsReadError(`${call} (${what}) failed: ${reason}`, code);
  }
}
