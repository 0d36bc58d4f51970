import { describe, expect, it } from 'vitest';
import { browserCorsCheck, effectiveMaxAgeSec, preflightCheck, variesOnOrigin } from '../../src/checks/cors/fetch-rules.js';
import { hostileOrigins } from '../../src/checks/cors/origins.js';

const O = 'https://app.example.com';

describe('the Fetch CORS check', () => {
  it.each([
    ['no ACAO', {}, false, false],
    ['exact origin', { 'access-control-allow-origin': O }, false, true],
    ['star without credentials', { 'access-control-allow-origin': '*' }, false, true],
    ['star with credentials', { 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' }, true, false],
    ['other origin', { 'access-control-allow-origin': 'https://other.example' }, false, false],
    ['two values', { 'access-control-allow-origin': `${O}, https://b.example` }, false, false],
    ['credentialed without ACAC', { 'access-control-allow-origin': O }, true, false],
    [
      'credentialed with ACAC TRUE (case matters)',
      { 'access-control-allow-origin': O, 'access-control-allow-credentials': 'TRUE' },
      true,
      false,
    ],
    ['credentialed with ACAC true', { 'access-control-allow-origin': O, 'access-control-allow-credentials': 'true' }, true, true],
  ])('%s', (_name, headers, credentialed, allowed) => {
    expect(browserCorsCheck(headers as Record<string, string>, O, credentialed).allowed).toBe(allowed);
  });
});

describe('the preflight', () => {
  const ok = {
    'access-control-allow-origin': O,
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'content-type, x-api-key',
  };
  it.each([
    ['a full answer', 204, ok, 'PUT', [], false, false],
    ['the listed method and headers', 204, { ...ok, 'access-control-allow-methods': 'GET, PUT' }, 'PUT', ['x-api-key'], false, true],
    ['a safelisted method needs no listing', 204, ok, 'GET', ['x-api-key'], false, true],
    ['a non-2xx status', 403, ok, 'GET', [], false, false],
    ['a missing header', 204, ok, 'GET', ['x-trace'], false, false],
    ['* covers headers without credentials', 204, { ...ok, 'access-control-allow-headers': '*' }, 'GET', ['x-trace'], false, true],
    ['* never covers Authorization', 204, { ...ok, 'access-control-allow-headers': '*' }, 'GET', ['authorization'], false, false],
    [
      '* does not count with credentials',
      204,
      { ...ok, 'access-control-allow-headers': '*', 'access-control-allow-credentials': 'true' },
      'GET',
      ['x-trace'],
      true,
      false,
    ],
    ['* methods without credentials', 204, { ...ok, 'access-control-allow-methods': '*' }, 'DELETE', [], false, true],
  ])('%s', (_name, status, headers, method, requestHeaders, credentialed, allowed) => {
    expect(preflightCheck(status, headers as Record<string, string>, O, method, requestHeaders, credentialed).allowed).toBe(allowed);
  });

  it('applies browser caps and the 5 s default to Max-Age', () => {
    expect(effectiveMaxAgeSec({})).toEqual({ chromium: 5, firefox: 5 });
    expect(effectiveMaxAgeSec({ 'access-control-max-age': '100000' })).toEqual({ declared: 100000, chromium: 7200, firefox: 86400 });
  });

  it('reads Vary lists', () => {
    expect(variesOnOrigin({ vary: 'Accept-Encoding, Origin' })).toBe(true);
    expect(variesOnOrigin({ vary: 'Accept-Encoding' })).toBe(false);
  });
});

describe('hostile origins', () => {
  it('derives the scanner bypass classes from an allowed origin', () => {
    const origins = hostileOrigins([O]).map((h) => h.origin);
    expect(origins).toEqual(
      expect.arrayContaining([
        'null',
        'https://app.example.com.gatecheck-evil.tld',
        'https://gatecheck-evilapp.example.com',
        'https://gatecheck-evil.app.example.com',
        'https://gatecheck-evil.example.com',
        'https://appxexample.com',
        'http://app.example.com',
      ]),
    );
    expect(origins).not.toContain(O);
  });

  it('never lists an origin the policy allows', () => {
    expect(hostileOrigins([O, 'http://app.example.com']).map((h) => h.origin)).not.toContain('http://app.example.com');
  });
});
