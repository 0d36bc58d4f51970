/**
 * The SigV4 bypass matrix: the valid signature as the positive control, then every way a
 * signature can be wrong that API Gateway must refuse (403 Missing Authentication Token,
 * "The request signature we calculated does not match…", "Signature expired…"). Pure but for
 * the signing itself, which runs on the wire (a RequestSigner), so X-Amz-Date is the send time.
 */
import { randomBytes } from 'node:crypto';
import type { ProbeRequest, RequestSigner, WireRequest } from '../../engine/http-client.js';
import { BODY_METHODS, type HttpMethod, type SigV4Settings } from '../../policy/types.js';
import { signWire, type SigningOverrides } from './sign.js';

/** A signed header every probe carries, so one can be changed or dropped after signing. */
export const SIGNED_MARKER_HEADER = 'x-gatecheck-signed';
/** A clock this far off is outside API Gateway's 5-minute skew. */
export const SKEWED_CLOCK_MS = -6 * 60_000;

export interface SigV4Variant {
  probe: string;
  label: string;
  method: HttpMethod;
  path: string;
  /** How the request is signed, then tampered with; undefined: sent unsigned. */
  signing?: { overrides: SigningOverrides; tamper?: 'header-changed' | 'header-dropped' | 'body-changed' };
}

export interface SigV4Matrix {
  control: SigV4Variant;
  variants: SigV4Variant[];
  skipped: string[];
}

/** A region and a service that are not the credential's. */
export function wrongScope(settings: Pick<SigV4Settings, 'region' | 'service'>): { region: string; service: string } {
  return {
    region: settings.region === 'eu-west-1' ? 'us-west-2' : 'eu-west-1',
    service: settings.service === 'lambda' ? 'execute-api' : 'lambda',
  };
}

/** The matrix for a route; `wrongSecret` is drawn by the caller (the shape never depends on it). */
export function buildSigV4Matrix(route: { method: HttpMethod; path: string }, settings: SigV4Settings, wrongSecret: string): SigV4Matrix {
  const scope = wrongScope(settings);
  const v = (probe: string, label: string, signing?: SigV4Variant['signing']): SigV4Variant => ({
    probe: `sigv4.${probe}`,
    label,
    method: route.method,
    path: route.path,
    ...(signing ? { signing } : {}),
  });
  const hasBody = BODY_METHODS.includes(route.method);
  const variants = [
    v('unsigned', 'unsigned request'),
    v('wrong-secret', 'signed with a wrong secret key', { overrides: { secretAccessKey: wrongSecret } }),
    v('wrong-region', `signed for another region (${scope.region})`, { overrides: { region: scope.region } }),
    v('wrong-service', `signed for another service (${scope.service})`, { overrides: { service: scope.service } }),
    v('expired', 'X-Amz-Date 6 minutes off (outside the 5-minute skew)', { overrides: { clockOffsetMs: SKEWED_CLOCK_MS } }),
    v('header-changed', `signed header ${SIGNED_MARKER_HEADER} changed after signing`, { overrides: {}, tamper: 'header-changed' }),
    v('header-dropped', `signed header ${SIGNED_MARKER_HEADER} dropped after signing`, { overrides: {}, tamper: 'header-dropped' }),
    ...(hasBody ? [v('body-changed', 'body changed after signing', { overrides: {}, tamper: 'body-changed' })] : []),
  ];
  const skipped = hasBody ? [] : [`body changed after signing: a ${route.method} route takes no body`];
  return { control: v('control', 'valid SigV4 signature (positive control)', { overrides: {} }), variants, skipped };
}

/** The signer of one variant: signs with its overrides, then tampers as it says. */
export function variantSigner(settings: SigV4Settings, signing: NonNullable<SigV4Variant['signing']>): RequestSigner {
  return async (wire: WireRequest) => {
    const headers = await signWire(settings, wire, signing.overrides);
    let body = wire.body;
    if (signing.tamper === 'header-changed') headers[SIGNED_MARKER_HEADER] = `${headers[SIGNED_MARKER_HEADER]}-changed`;
    if (signing.tamper === 'header-dropped') delete headers[SIGNED_MARKER_HEADER];
    if (signing.tamper === 'body-changed') body = JSON.stringify({ gatecheck: 'changed after signing' });
    return { headers, ...(body !== undefined ? { body } : {}) };
  };
}

/** The request a variant sends: the marker header, a JSON body on body methods, and its signer. */
export function variantRequest(settings: SigV4Settings, variant: SigV4Variant): ProbeRequest {
  const hasBody = BODY_METHODS.includes(variant.method);
  return {
    probe: variant.probe,
    method: variant.method,
    path: variant.path,
    headers: {
      [SIGNED_MARKER_HEADER]: randomBytes(6).toString('hex'),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(hasBody ? { body: JSON.stringify({ gatecheck: 'signed' }) } : {}),
    ...(variant.signing ? { sign: variantSigner(settings, variant.signing) } : {}),
  };
}
