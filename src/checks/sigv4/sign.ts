/**
 * SigV4 signing with the AWS SDK's own signer (@smithy/signature-v4 over @aws-crypto/sha256-js),
 * never a hand-written one. Signing happens as a request goes on the wire (the engine calls a
 * ProbeRequest's `sign` after every header is set), so X-Amz-Date is the send time, whatever
 * the probe's schedule.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RequestSigner, WireRequest } from '../../engine/http-client.js';
import type { Credential, SigV4Settings } from '../../policy/types.js';

/** What a matrix probe signs differently from the valid credential. */
export interface SigningOverrides {
  secretAccessKey?: string;
  region?: string;
  service?: string;
  /** Added to the signing clock, ms (a clock 6 minutes off is outside the 5-minute skew). */
  clockOffsetMs?: number;
}

/** The request in the SDK's HttpRequest shape: the host header and the query split out, as the signer wants them. */
function toSignable(wire: WireRequest) {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of wire.url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return {
    method: wire.method,
    protocol: wire.url.protocol,
    hostname: wire.url.hostname,
    ...(wire.url.port ? { port: Number(wire.url.port) } : {}),
    path: wire.url.pathname,
    query,
    // The signer signs the headers it is given: host must be one (undici sends this exact value).
    headers: { ...wire.headers, host: wire.url.host },
    ...(wire.body !== undefined ? { body: wire.body } : {}),
  };
}

/**
 * Signs a wire request: returns its headers with host, x-amz-date, x-amz-security-token (with a
 * session token) and authorization added. No x-amz-content-sha256: API Gateway does not ask for
 * it, and the payload's hash is in the signature either way.
 */
export async function signWire(
  settings: SigV4Settings,
  wire: WireRequest,
  overrides: SigningOverrides = {},
  now: () => number = Date.now,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: settings.accessKeyId,
      secretAccessKey: overrides.secretAccessKey ?? settings.secretAccessKey,
      ...(settings.sessionToken !== undefined ? { sessionToken: settings.sessionToken } : {}),
    },
    region: overrides.region ?? settings.region,
    service: overrides.service ?? settings.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(toSignable(wire), { signingDate: new Date(now() + (overrides.clockOffsetMs ?? 0)) });
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

/** The signer every ordinary probe with this credential carries; undefined for credentials that are not sigv4. */
export function credentialSigner(credential: Credential | undefined): RequestSigner | undefined {
  const settings = credential?.sigv4;
  if (!settings) return undefined;
  return async (wire) => ({ headers: await signWire(settings, wire), ...(wire.body !== undefined ? { body: wire.body } : {}) });
}
