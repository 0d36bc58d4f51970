/**
 * JSON Web Token forgery for the auth check: the classic ways a token is accepted that should not
 * be (RFC 8725, "JWT Best Current Practices", section 2). Pure functions over strings and keys;
 * the only randomness is the key the caller passes in.
 *
 * Nothing here verifies a token: gatecheck never holds the issuer's key. It takes the valid token
 * from the policy and derives tokens that a correct verifier must refuse.
 */
import { createHmac, generateKeyPair, randomBytes, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The three base64url segments as they were. */
  segments: [string, string, string];
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function encodeSegment(value: unknown): string {
  return base64url(JSON.stringify(value));
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Header and payload of a compact JWS, or undefined when `token` is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((s) => /^[A-Za-z0-9_-]*$/.test(s))) return undefined;
  const header = decodeSegment(segments[0]!);
  const payload = decodeSegment(segments[1]!);
  if (!header || !payload) return undefined;
  return { header, payload, segments: segments as [string, string, string] };
}

/** The casings of `none` that lax verifiers have accepted (the alg comparison was case-sensitive only against `none`). */
export const ALG_NONE_CASINGS = ['none', 'None', 'NONE', 'nOnE'] as const;

/** Same payload, header alg replaced by `alg`, no signature: `header.payload.` */
export function withAlgNone(token: DecodedJwt, alg: string): string {
  return `${encodeSegment({ ...token.header, alg })}.${token.segments[1]}.`;
}

/** The original header and payload with the signature removed; `keepDot` leaves the trailing dot. */
export function withoutSignature(token: DecodedJwt, keepDot: boolean): string {
  return `${token.segments[0]}.${token.segments[1]}${keepDot ? '.' : ''}`;
}

/** Claims changed, original header and signature kept: a verifier that checks the signature refuses it. */
export function withClaims(token: DecodedJwt, claims: Record<string, unknown>): string {
  return `${token.segments[0]}.${encodeSegment({ ...token.payload, ...claims })}.${token.segments[2]}`;
}

/** A key of the kind `alg` needs; HMAC algorithms get a random secret. */
export type SigningKey = { kind: 'secret'; secret: Buffer } | { kind: 'private'; key: KeyObject };

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC_CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** The family of a JWS alg: HS, RS, PS, ES or EdDSA; undefined for anything else. */
export function algFamily(alg: unknown): 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA' | undefined {
  if (typeof alg !== 'string') return undefined;
  if (alg === 'EdDSA') return 'EdDSA';
  const match = /^(HS|RS|PS|ES)(256|384|512)$/.exec(alg);
  return match ? (match[1] as 'HS' | 'RS' | 'PS' | 'ES') : undefined;
}

/** The alg a fresh key is made for (see freshKeyFor): the token's own, HS256 when it is unknown. */
export function otherKeyAlg(alg: unknown): string {
  return algFamily(alg) ? (alg as string) : 'HS256';
}

/** A fresh key for `alg` (HS256 when the alg is unknown): nobody else has it, so its signature is "another key's". */
export async function freshKeyFor(alg: unknown): Promise<{ alg: string; key: SigningKey }> {
  const family = algFamily(alg);
  const name = otherKeyAlg(alg);
  const generate = promisify(generateKeyPair);
  switch (family) {
    case 'RS':
    case 'PS':
      return { alg: name, key: { kind: 'private', key: (await generate('rsa', { modulusLength: 2048 })).privateKey } };
    case 'ES':
      return { alg: name, key: { kind: 'private', key: (await generate('ec', { namedCurve: EC_CURVE[name]! })).privateKey } };
    case 'EdDSA':
      return { alg: name, key: { kind: 'private', key: (await generate('ed25519', undefined)).privateKey } };
    default:
      return { alg: name, key: { kind: 'secret', secret: randomBytes(32) } };
  }
}

/** Signs `header.payload` with `key` as JWS `alg` does; returns the compact token. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, alg: string, key: SigningKey): string {
  const input = `${encodeSegment({ ...header, alg })}.${encodeSegment(payload)}`;
  return `${input}.${base64url(signature(input, alg, key))}`;
}

function signature(input: string, alg: string, key: SigningKey): Buffer {
  const family = algFamily(alg);
  const hash = HASH[alg.slice(2)] ?? 'sha256';
  if (family === 'HS') {
    if (key.kind !== 'secret') throw new Error(`${alg} needs a secret`);
    return createHmac(hash, key.secret).update(input).digest();
  }
  if (key.kind !== 'private') throw new Error(`${alg} needs a private key`);
  switch (family) {
    case 'RS':
      return cryptoSign(hash, Buffer.from(input), key.key);
    case 'PS':
      return cryptoSign(hash, Buffer.from(input), {
        key: key.key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      });
    case 'ES':
      return cryptoSign(hash, Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return cryptoSign(null, Buffer.from(input), key.key);
    default:
      throw new Error(`cannot sign with alg ${alg}`);
  }
}

/** The token re-signed by `key` (another key than the issuer's): same header (kid included) and claims. */
export function resignedBy(token: DecodedJwt, alg: string, key: SigningKey): string {
  return signJwt(token.header, token.payload, alg, key);
}

export interface ForgedToken {
  probe: string;
  label: string;
  value: string;
}

/** A forgery before its value is made: the probe and label are known without a key or a clock. */
export interface JwtForgery {
  probe: string;
  label: string;
  forge: (nowSec: number, otherKey: { alg: string; key: SigningKey }) => string;
}

/**
 * Every forgery of `token` a verifier must refuse, by name; `forgeJwts` makes the values. The
 * names alone let the plan count the probes and the report list them before any key exists.
 */
export function jwtForgeries(token: DecodedJwt): JwtForgery[] {
  const forged: JwtForgery[] = ALG_NONE_CASINGS.map((alg) => ({
    probe: `auth.jwt.alg-${alg}`,
    label: `JWT with alg "${alg}" and no signature`,
    forge: () => withAlgNone(token, alg),
  }));
  forged.push(
    {
      probe: 'auth.jwt.signature-stripped',
      label: 'JWT with its signature stripped (header.payload.)',
      forge: () => withoutSignature(token, true),
    },
    {
      probe: 'auth.jwt.two-segments',
      label: 'JWT without its signature segment (header.payload)',
      forge: () => withoutSignature(token, false),
    },
    {
      probe: 'auth.jwt.other-key',
      label: `JWT re-signed with another key (${otherKeyAlg(token.header.alg)})`,
      forge: (_nowSec, otherKey) => resignedBy(token, otherKey.alg, otherKey.key),
    },
    {
      probe: 'auth.jwt.expired-claims',
      label: 'JWT with exp moved an hour into the past (original signature)',
      forge: (nowSec) =>
        withClaims(token, { exp: nowSec - 3600, ...(typeof token.payload.iat === 'number' ? { iat: nowSec - 7200 } : {}) }),
    },
  );
  return forged;
}

/**
 * Every forgery of `token` a verifier must refuse. `nowSec` dates the expired claims; `otherKey`
 * is a key the issuer never saw, for the token's own alg (see freshKeyFor).
 */
export function forgeJwts(token: DecodedJwt, nowSec: number, otherKey: { alg: string; key: SigningKey }): ForgedToken[] {
  return jwtForgeries(token).map((f) => ({ probe: f.probe, label: f.label, value: f.forge(nowSec, otherKey) }));
}
