/**
 * The auth bypass matrix as it goes on the wire: which variants, which groups, what each request
 * carries, and which derived values must be redacted.
 */
import { describe, expect, it } from 'vitest';
import { buildAuthMatrix, pathVariants, type AuthVariant } from '../../src/checks/auth/variants.js';
import type { Credential } from '../../src/policy/types.js';
import { Redactor } from '../../src/util/redact.js';

const KEY = 'k3y-Abc123-secret';
const apiKey: Credential = { name: 'main', header: 'x-api-key', value: KEY };
const bearer: Credential = { name: 'user', header: 'authorization', scheme: 'Bearer', value: 'opaque-Token-99' };
const route = { method: 'GET' as const, path: '/api/items' };

function byProbe(variants: AuthVariant[]): Record<string, AuthVariant> {
  return Object.fromEntries(variants.map((v) => [v.probe, v]));
}

describe('buildAuthMatrix for an API key', () => {
  const matrix = buildAuthMatrix({ route, credential: apiKey, wrongValue: 'gatecheck-wrong-00' });
  const v = byProbe(matrix.variants);

  it('starts from the valid credential as the positive control', () => {
    expect(matrix.control).toMatchObject({ method: 'GET', path: '/api/items', headers: { 'x-api-key': KEY }, group: 'credential' });
  });

  it('sends the credential variants to the exact route', () => {
    expect(
      Object.values(v)
        .filter((x) => x.group === 'credential')
        .map((x) => [x.probe, x.method, x.path.split('?')[0], x.headers]),
    ).toEqual([
      ['auth.missing', 'GET', '/api/items', {}],
      ['auth.empty', 'GET', '/api/items', { 'x-api-key': '' }],
      ['auth.wrong', 'GET', '/api/items', { 'x-api-key': 'gatecheck-wrong-00' }],
      ['auth.truncated', 'GET', '/api/items', { 'x-api-key': KEY.slice(0, -1) }],
      ['auth.extended', 'GET', '/api/items', { 'x-api-key': `${KEY}0` }],
      ['auth.case-flipped', 'GET', '/api/items', { 'x-api-key': 'K3Y-aBC123-SECRET' }],
      ['auth.query.api_key', 'GET', '/api/items', {}],
      ['auth.query.x-api-key', 'GET', '/api/items', {}],
    ]);
    expect(v['auth.query.api_key']!.path).toBe(`/api/items?api_key=${KEY}`);
  });

  it('tries path spellings and method overrides without a credential', () => {
    const routing = matrix.variants.filter((x) => x.group === 'routing');
    expect(routing.every((x) => Object.keys(x.headers).every((h) => h.startsWith('x-http') || h === 'x-method-override'))).toBe(true);
    expect(routing.map((x) => `${x.method} ${x.path}`)).toEqual([
      'GET /api/items/',
      'GET //api/items',
      'GET /api//items',
      'GET /api/./items',
      'GET /api/%69tems',
      'GET /api%2Fitems',
      'GET /API/ITEMS',
      'GET /api/items;gatecheck=1',
      'POST /api/items',
      'POST /api/items',
      'POST /api/items',
      'POST /api/items?_method=GET',
    ]);
    expect(v['auth.override.x-http-method-override']!.headers).toEqual({ 'x-http-method-override': 'GET' });
  });

  it('sends the valid key under other casings of the header name, as a control', () => {
    expect(matrix.variants.filter((x) => x.group === 'case-control').map((x) => x.headers)).toEqual([
      { 'X-API-KEY': KEY },
      { 'X-Api-Key': KEY },
    ]);
  });

  it('hands every derived value to the redactor, and the redactor hides them all', () => {
    expect(matrix.derived.map((d) => d.value).sort()).toEqual([KEY.slice(0, -1), `${KEY}0`, 'K3Y-aBC123-SECRET'].sort());
    const redactor = new Redactor([apiKey]);
    for (const d of matrix.derived) redactor.add(d.value, d.label);
    const wire = JSON.stringify(matrix.variants.map((x) => [x.path, x.headers]));
    const shown = redactor.redact(wire);
    for (const secret of [KEY, ...matrix.derived.map((d) => d.value)]) expect(shown).not.toContain(secret);
    expect(shown).toContain('<credential main, truncated>');
  });

  it('skips the method override when the policy answers that method publicly on the path', () => {
    const m = buildAuthMatrix({ route, credential: apiKey, wrongValue: 'w', publicMethodsOnPath: ['POST'] });
    expect(m.variants.some((x) => x.probe.startsWith('auth.override'))).toBe(false);
    expect(m.skipped).toEqual(['method override: POST /api/items is a public route of the policy, so its answer proves nothing']);
  });

  it('poses as GET for a POST route, and keeps a query string the route has', () => {
    const m = buildAuthMatrix({ route: { method: 'POST', path: '/orders?v=2' }, credential: apiKey, wrongValue: 'w' });
    const o = byProbe(m.variants);
    expect(o['auth.override.x-http-method']).toMatchObject({ method: 'GET', path: '/orders?v=2', headers: { 'x-http-method': 'POST' } });
    expect(o['auth.override._method']!.path).toBe('/orders?v=2&_method=POST');
    expect(o['auth.query.api_key']!.path).toBe(`/orders?v=2&api_key=${KEY}`);
    expect(o['auth.path.trailing-slash']!.path).toBe('/orders/?v=2');
  });

  it('does not send a truncated copy too short to redact', () => {
    const m = buildAuthMatrix({ route, credential: { ...apiKey, value: 'abcd' }, wrongValue: 'w' });
    expect(m.variants.some((x) => x.probe === 'auth.truncated')).toBe(false);
    expect(m.skipped[0]).toMatch(/too short to redact/);
  });
});

describe('buildAuthMatrix for a bearer token', () => {
  const matrix = buildAuthMatrix({ route, credential: bearer, wrongValue: 'w-1' });
  const v = byProbe(matrix.variants);

  it('writes the scheme, tries the scheme alone, and the OAuth access_token parameter', () => {
    expect(matrix.control.headers).toEqual({ authorization: 'Bearer opaque-Token-99' });
    expect(v['auth.wrong']!.headers).toEqual({ authorization: 'Bearer w-1' });
    expect(v['auth.scheme-only']!.headers).toEqual({ authorization: 'Bearer' });
    expect(v['auth.query.access_token']!.path).toBe('/api/items?access_token=opaque-Token-99');
    expect(matrix.variants.filter((x) => x.group === 'case-control').map((x) => Object.keys(x.headers)[0])).toEqual([
      'AUTHORIZATION',
      'Authorization',
    ]);
  });

  it('adds the JWT forgeries as credential variants, each registered for redaction', () => {
    const forged = [{ probe: 'auth.jwt.alg-none', label: 'JWT with alg "none" and no signature', value: 'eyJ.eyJ.' }];
    const m = buildAuthMatrix({ route, credential: { ...bearer, kind: 'jwt' }, wrongValue: 'w', forgedJwts: forged });
    expect(byProbe(m.variants)['auth.jwt.alg-none']).toMatchObject({ group: 'credential', headers: { authorization: 'Bearer eyJ.eyJ.' } });
    expect(m.derived).toContainEqual({ value: 'eyJ.eyJ.', label: '<credential user, JWT with alg "none" and no signature>' });
    expect(m.variants.some((x) => x.probe === 'auth.case-flipped')).toBe(false);
  });
});

describe('pathVariants', () => {
  it.each([
    [
      '/api/items',
      ['/api/items/', '//api/items', '/api//items', '/api/./items', '/api/%69tems', '/api%2Fitems', '/API/ITEMS', '/api/items;gatecheck=1'],
    ],
    [
      '/v1/Items/',
      ['/v1/Items', '//v1/Items/', '/v1//Items/', '/v1/./Items/', '/v1/%49tems/', '/v1%2FItems/', '/V1/ITEMS/', '/v1/Items;gatecheck=1/'],
    ],
    ['/', ['//', '/./', '/;gatecheck=1']],
    ['/health', ['/health/', '//health', '/./health', '/%68ealth', '/HEALTH', '/health;gatecheck=1']],
  ])('%s', (path, expected) => {
    const variants = pathVariants(path);
    expect(variants.map((v) => v.path)).toEqual(expected);
    expect(variants.map((v) => v.path)).not.toContain(path);
  });
});
