/**
 * IAM (SigV4) authorization as API Gateway applies it, for the reference gateway: the expected
 * signature is recomputed from the request with the SDK's own signer (@smithy/signature-v4) and
 * the credential's secret from the policy, over exactly the headers the request says it signed.
 * The request is refused with AWS's error bodies: no Authorization header → 403 Missing
 * Authentication Token; an unknown key id → "The security token included in the request is
 * invalid."; the wrong region or service scope, a signature that does not match, or an
 * X-Amz-Date more than 5 minutes from the gateway's clock → InvalidSignatureException.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SigV4Settings } from '../policy/types.js';
import { gatewayResponse, MISSING_AUTHENTICATION_TOKEN, type GatewayResponse } from './responses.js';

/** API Gateway's allowed difference between X-Amz-Date and its own clock. */
export const SIGV4_SKEW_MS = 5 * 60_000;

export const SIGNATURE_MISMATCH = gatewayResponse(
  'INVALID_SIGNATURE',
  403,
  'InvalidSignatureException',
  'The request signature we calculated does not match the signature you provided. ' +
    'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
);
const UNRECOGNIZED_CLIENT = gatewayResponse(
  'INVALID_SIGNATURE',
  403,
  'UnrecognizedClientException',
  'The security token included in the request is invalid.',
);
const INCOMPLETE = (message: string) => gatewayResponse('INVALID_SIGNATURE', 403, 'IncompleteSignatureException', message);
const INVALID = (message: string) => gatewayResponse('INVALID_SIGNATURE', 403, 'InvalidSignatureException', message);

export interface SignedRequest {
  method: string;
  /** Path and query as received (origin form). */
  target: string;
  headers: IncomingHttpHeaders;
  body: string | undefined;
}

// AWS4-HMAC-SHA256 Credential=AKID/20261130/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=…
const AUTHORIZATION = new RegExp(
  '^AWS4-HMAC-SHA256 Credential=([^/,\\s]+)/(\\d{8})/([^/,\\s]+)/([^/,\\s]+)/aws4_request,' +
    '\\s*SignedHeaders=([a-z0-9;._-]+),\\s*Signature=([0-9a-f]{64})$',
);

/** `20261130T160000Z` → epoch ms, or undefined. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

const amz = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The refusal for this request, or undefined when its signature is valid. */
export async function verifySigV4(
  settings: SigV4Settings,
  request: SignedRequest,
  nowMs = Date.now(),
): Promise<GatewayResponse | undefined> {
  const authorization = header(request.headers, 'authorization');
  if (authorization === undefined) return MISSING_AUTHENTICATION_TOKEN;
  const parts = AUTHORIZATION.exec(authorization.trim());
  if (!parts) return INCOMPLETE(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`);
  const [, keyId, shortDate, region, service, signedList, signature] = parts as unknown as string[];
  if (keyId !== settings.accessKeyId) return UNRECOGNIZED_CLIENT;
  if (region !== settings.region) return INVALID('Credential should be scoped to a valid region. ');
  if (service !== settings.service) return INVALID(`Credential should be scoped to correct service: '${settings.service}'. `);
  const amzDate = header(request.headers, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (signedAt === undefined) return INCOMPLETE(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
  if (signedAt < nowMs - SIGV4_SKEW_MS)
    return INVALID(`Signature expired: ${amzDate} is now earlier than ${amz(nowMs - SIGV4_SKEW_MS)} (${amz(nowMs)} - 5 min.)`);
  if (signedAt > nowMs + SIGV4_SKEW_MS)
    return INVALID(`Signature not yet current: ${amzDate} is still later than ${amz(nowMs + SIGV4_SKEW_MS)} (${amz(nowMs)} + 5 min.)`);
  const token = header(request.headers, 'x-amz-security-token');
  if (settings.sessionToken !== undefined && token !== settings.sessionToken) return UNRECOGNIZED_CLIENT;
  // A declared payload hash must be the body's: otherwise the signature would cover a hash, not the body.
  const declared = header(request.headers, 'x-amz-content-sha256');
  if (
    declared !== undefined &&
    declared !== 'UNSIGNED-PAYLOAD' &&
    declared !==
      createHash('sha256')
        .update(request.body ?? '')
        .digest('hex')
  )
    return SIGNATURE_MISMATCH;

  const expected = await expectedSignature(settings, request, signedList!.split(';'), signedAt);
  if (shortDate !== amzDate!.slice(0, 8) || expected === undefined) return SIGNATURE_MISMATCH;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(signature!)) ? undefined : SIGNATURE_MISMATCH;
}

/** The signature the SDK's signer gives the request's signed headers, with the policy's secret. */
async function expectedSignature(
  settings: SigV4Settings,
  request: SignedRequest,
  signed: string[],
  signedAt: number,
): Promise<string | undefined> {
  const url = new URL(request.target, 'http://gateway.invalid');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(request.headers, name);
    // A header the signature covers but the request lacks (dropped on the way) cannot match.
    if (value === undefined) return undefined;
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      ...(settings.sessionToken !== undefined ? { sessionToken: settings.sessionToken } : {}),
    },
    region: settings.region,
    service: settings.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const result = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(signed) },
  );
  const produced = String(result.headers['authorization'] ?? '');
  return /Signature=([0-9a-f]{64})$/.exec(produced)?.[1];
}
