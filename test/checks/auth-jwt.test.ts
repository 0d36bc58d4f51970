/**
 * JWT forgery, checked with node:crypto's own verifier and keys the test makes: each forged token
 * must be one that a correct verifier holding the issuer's key refuses.
 */
import { createHmac, createPublicKey, generateKeyPairSync, verify, constants, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALG_NONE_CASINGS,
  algFamily,
  decodeJwt,
  forgeJwts,
  freshKeyFor,
  signJwt,
  withAlgNone,
  withClaims,
  withoutSignature,
  type SigningKey,
} from '../../src/checks/auth/jwt.js';

const issuer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ISSUER: SigningKey = { kind: 'private', key: issuer.privateKey };
const NOW = 1_700_000_000;
const claims = { sub: 'ada', iss: 'https://issuer.example', aud: 'api', iat: NOW - 60, exp: NOW + 3600 };
const token = signJwt({ typ: 'JWT', kid: 'k1' }, claims, 'RS256', ISSUER);

/** RS/PS/ES/EdDSA/HS verification of a compact token, as a correct gateway does it. */
function verifies(compact: string, alg: string, key: KeyObject | Buffer): boolean {
  const [h, p, s] = compact.split('.');
  if (s === undefined || s === '') return false;
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const hash = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }[alg.slice(2)] ?? null;
  switch (algFamily(alg)) {
    case 'HS':
      return createHmac(hash!, key).update(input).digest().equals(sig);
    case 'RS':
      return verify(hash, input, key, sig);
    case 'PS':
      return verify(
        hash,
        input,
        { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        sig,
      );
    case 'ES':
      return verify(hash, input, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, sig);
    case 'EdDSA':
      return verify(null, input, key, sig);
    default:
      return false;
  }
}

describe('decodeJwt', () => {
  it('reads header and claims of a compact JWS', () => {
    const decoded = decodeJwt(token)!;
    expect(decoded.header).toEqual({ typ: 'JWT', kid: 'k1', alg: 'RS256' });
    expect(decoded.payload).toEqual(claims);
    expect(decoded.segments.join('.')).toBe(token);
  });

  it.each(['opaque-api-key', 'a.b', 'a.b.c.d', 'e30.bm90IGpzb24.x', 'W10.e30.x'])('refuses %s', (value) => {
    expect(decodeJwt(value)).toBeUndefined();
  });
});

describe('signJwt and freshKeyFor', () => {
  it.each(['HS256', 'HS512', 'RS256', 'RS384', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'])(
    '%s signs what the matching verifier accepts',
    async (alg) => {
      const { key } = await freshKeyFor(alg);
      const signed = signJwt({}, claims, alg, key);
      const verifyKey = key.kind === 'secret' ? key.secret : createPublicKey(key.key);
      expect(verifies(signed, alg, verifyKey)).toBe(true);
      expect(decodeJwt(signed)!.header.alg).toBe(alg);
    },
  );

  it('falls back to HS256 for an alg it does not know', async () => {
    expect((await freshKeyFor('none')).alg).toBe('HS256');
    expect((await freshKeyFor(undefined)).key.kind).toBe('secret');
  });
});

describe('forgeJwts', () => {
  const decoded = decodeJwt(token)!;
  const issuerPublic = createPublicKey(issuer.privateKey);

  it('the genuine token verifies with the issuer key (the control)', () => {
    expect(verifies(token, 'RS256', issuerPublic)).toBe(true);
  });

  it('makes alg none in every casing, same claims, no signature', () => {
    for (const alg of ALG_NONE_CASINGS) {
      const forged = withAlgNone(decoded, alg);
      expect(forged.endsWith('.')).toBe(true);
      const back = decodeJwt(forged)!;
      expect(back.header).toEqual({ ...decoded.header, alg });
      expect(back.payload).toEqual(claims);
    }
    expect(new Set(ALG_NONE_CASINGS.map((a) => a.toLowerCase()))).toEqual(new Set(['none']));
  });

  it('strips the signature with and without the trailing dot', () => {
    expect(withoutSignature(decoded, true)).toBe(`${decoded.segments[0]}.${decoded.segments[1]}.`);
    expect(withoutSignature(decoded, false)).toBe(`${decoded.segments[0]}.${decoded.segments[1]}`);
  });

  it('every forgery fails verification with the issuer key, and each is different', async () => {
    const other = await freshKeyFor('RS256');
    const forged = forgeJwts(decoded, NOW, other);
    expect(forged.map((f) => f.probe)).toEqual([
      'auth.jwt.alg-none',
      'auth.jwt.alg-None',
      'auth.jwt.alg-NONE',
      'auth.jwt.alg-nOnE',
      'auth.jwt.signature-stripped',
      'auth.jwt.two-segments',
      'auth.jwt.other-key',
      'auth.jwt.expired-claims',
    ]);
    expect(new Set(forged.map((f) => f.value)).size).toBe(forged.length);
    for (const f of forged) {
      expect(f.value).not.toBe(token);
      expect(verifies(f.value, 'RS256', issuerPublic), f.label).toBe(false);
    }
  });

  it('signs the other-key forgery correctly, with its own key: only the key is wrong', async () => {
    const other = await freshKeyFor('RS256');
    const forged = forgeJwts(decoded, NOW, other).find((f) => f.probe === 'auth.jwt.other-key')!;
    expect(verifies(forged.value, 'RS256', createPublicKey((other.key as { key: KeyObject }).key))).toBe(true);
    expect(decodeJwt(forged.value)!.header.kid).toBe('k1');
  });

  it('moves exp (and iat) into the past and keeps the original signature', () => {
    const expired = decodeJwt(withClaims(decoded, { exp: NOW - 3600 }))!;
    expect(expired.payload.exp).toBe(NOW - 3600);
    expect(expired.segments[2]).toBe(decoded.segments[2]);
    const forged = forgeJwts(decoded, NOW, { alg: 'HS256', key: { kind: 'secret', secret: Buffer.alloc(32) } }).find(
      (f) => f.probe === 'auth.jwt.expired-claims',
    )!;
    expect(decodeJwt(forged.value)!.payload).toMatchObject({ exp: NOW - 3600, iat: NOW - 7200, sub: 'ada' });
  });
});
