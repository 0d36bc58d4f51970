/**
 * The auth matrix: every way of calling a route that must NOT get the backend's normal answer,
 * plus the controls. Pure: randomness (the wrong value) and keys (JWT forgeries) come in from the
 * caller, so the tables in test/checks/auth-*.test.ts see exactly what goes on the wire.
 *
 * Groups, judged differently (see evaluateAuth):
 * - credential: same method and path, a bad credential or none. Must be refused (refuseStatus).
 * - routing: no credential, but a path spelt differently or another method asking to be treated
 *   as the route's. Any answer but the backend's normal one is fine (AWS answers an unknown path
 *   403 Missing Authentication Token, nginx 404); only a 2xx is a bypass.
 * - case-control: the valid credential under a differently cased header name. Header names are
 *   case-insensitive (RFC 9110, section 5.1), so acceptance is expected and never a bypass.
 */
import type { Credential, HttpMethod, RoutePolicy } from '../../policy/types.js';
import { credentialHeaders } from '../context.js';
import type { ForgedToken } from './jwt.js';

export type VariantGroup = 'credential' | 'routing' | 'case-control';

export interface AuthVariant {
  probe: string;
  label: string;
  group: VariantGroup;
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
}

/** A value derived from a secret: the caller registers it with the redactor before anything is sent. */
export interface DerivedSecret {
  value: string;
  label: string;
}

export interface AuthMatrix {
  control: AuthVariant;
  variants: AuthVariant[];
  derived: DerivedSecret[];
  /** Variants left out, and why. */
  skipped: string[];
}

export interface MatrixInput {
  route: Pick<RoutePolicy, 'method' | 'path'>;
  credential: Credential;
  /** A random value that is not the credential (the caller draws it). */
  wrongValue: string;
  /** Methods another policy route answers on this path without auth: overriding to them proves nothing. */
  publicMethodsOnPath?: readonly HttpMethod[];
  /** JWT credentials: the forgeries (see jwt.ts forgeJwts). */
  forgedJwts?: readonly ForgedToken[];
}

/** Headers apps read to let one method pose as another. */
export const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

/** Below this length a truncated value would be too short to redact (see util/redact.ts): it is not sent. */
const MIN_REDACTABLE = 4;

export function buildAuthMatrix(input: MatrixInput): AuthMatrix {
  const { route, credential } = input;
  const [base, query] = splitQuery(route.path);
  const withParams = (p: string, extra?: string): string => {
    const params = [query, extra].filter((s): s is string => !!s).join('&');
    return params ? `${p}?${params}` : p;
  };
  const exact = (probe: string, label: string, headers: Record<string, string>, path = route.path): AuthVariant => ({
    probe,
    label,
    group: 'credential',
    method: route.method,
    path,
    headers,
  });
  const derived: DerivedSecret[] = [];
  const skipped: string[] = [];
  const tag = (value: string, what: string): string => {
    derived.push({ value, label: `<credential ${credential.name}, ${what}>` });
    return value;
  };
  const value = credential.value;

  const control: AuthVariant = {
    probe: 'auth.control',
    label: 'valid credential (positive control)',
    group: 'credential',
    method: route.method,
    path: route.path,
    headers: credentialHeaders(credential),
  };
  const variants: AuthVariant[] = [
    exact('auth.missing', 'no credential', {}),
    exact('auth.empty', 'empty credential header', { [credential.header]: '' }),
    exact('auth.wrong', 'wrong credential (random value)', credentialHeaders(credential, input.wrongValue)),
  ];
  if (credential.scheme)
    variants.push(
      exact('auth.scheme-only', `scheme without a credential ("${credential.scheme}")`, { [credential.header]: credential.scheme }),
    );
  if (value.length - 1 >= MIN_REDACTABLE) {
    variants.push(
      exact(
        'auth.truncated',
        'valid credential with its last character cut',
        credentialHeaders(credential, tag(value.slice(0, -1), 'truncated')),
      ),
    );
  } else skipped.push('truncated credential: the value is too short to redact a truncated copy');
  variants.push(
    exact('auth.extended', 'valid credential with a character appended', credentialHeaders(credential, tag(`${value}0`, 'extended'))),
  );
  const flipped = swapCase(value);
  if (credential.kind !== 'jwt' && flipped !== value) {
    variants.push(
      exact(
        'auth.case-flipped',
        'valid credential with its letters case-flipped',
        credentialHeaders(credential, tag(flipped, 'case-flipped')),
      ),
    );
  }
  for (const forged of input.forgedJwts ?? [])
    variants.push(exact(forged.probe, forged.label, credentialHeaders(credential, tag(forged.value, forged.label))));

  // The credential in the query string instead of the header (redacted: the redactor knows its URL-encoded form).
  const queryNames = unique(['api_key', credential.header, ...(credential.scheme || credential.kind === 'jwt' ? ['access_token'] : [])]);
  for (const name of queryNames) {
    variants.push(
      exact(
        `auth.query.${name}`,
        `valid credential in the query string (?${name}=…), no header`,
        {},
        withParams(base, `${encodeURIComponent(name)}=${encodeURIComponent(value)}`),
      ),
    );
  }

  for (const v of pathVariants(base))
    variants.push({
      probe: v.probe,
      label: `${v.label}, no credential`,
      group: 'routing',
      method: route.method,
      path: withParams(v.path),
      headers: {},
    });

  const poser: HttpMethod = route.method === 'POST' ? 'GET' : 'POST';
  if (input.publicMethodsOnPath?.includes(poser)) {
    skipped.push(`method override: ${poser} ${base} is a public route of the policy, so its answer proves nothing`);
  } else {
    for (const header of METHOD_OVERRIDE_HEADERS) {
      variants.push({
        probe: `auth.override.${header}`,
        label: `${poser} with ${header}: ${route.method}, no credential`,
        group: 'routing',
        method: poser,
        path: route.path,
        headers: { [header]: route.method },
      });
    }
    variants.push({
      probe: 'auth.override._method',
      label: `${poser} with ?_method=${route.method}, no credential`,
      group: 'routing',
      method: poser,
      path: withParams(base, `_method=${route.method}`),
      headers: {},
    });
  }

  const headerValue = credentialHeaders(credential)[credential.header]!;
  for (const name of unique([credential.header.toUpperCase(), titleCase(credential.header)]).filter((n) => n !== credential.header)) {
    variants.push({
      probe: `auth.header-case.${name}`,
      label: `valid credential under header name "${name}" (control: names are case-insensitive)`,
      group: 'case-control',
      method: route.method,
      path: route.path,
      headers: { [name]: headerValue },
    });
  }
  return { control, variants, derived, skipped };
}

/** Spellings of `path` a normalising backend may route to the same handler. Never `path` itself. */
export function pathVariants(path: string): Array<{ probe: string; label: string; path: string }> {
  // Work on the last non-empty segment; a trailing slash the route has is put back after it.
  const trail = path.length > 1 && path.endsWith('/') ? '/' : '';
  const core = trail ? path.slice(0, -1) : path;
  const last = core.lastIndexOf('/');
  const letter = /[A-Za-z0-9]/.exec(core.slice(last + 1));
  const at = letter ? last + 1 + letter.index : -1;
  const candidates = [
    {
      probe: 'auth.path.trailing-slash',
      label: trail ? 'path without its trailing slash' : 'path with a trailing slash',
      path: trail ? core : `${path}/`,
    },
    { probe: 'auth.path.leading-double-slash', label: 'path with a doubled leading slash', path: `/${path}` },
    ...(last > 0
      ? [
          {
            probe: 'auth.path.inner-double-slash',
            label: 'path with a doubled inner slash',
            path: `${core.slice(0, last)}/${core.slice(last)}${trail}`,
          },
        ]
      : []),
    { probe: 'auth.path.dot-segment', label: 'path with a /./ segment', path: `${core.slice(0, last)}/.${core.slice(last)}${trail}` },
    ...(letter
      ? [
          {
            probe: 'auth.path.percent-encoded',
            label: `path with "${letter[0]}" percent-encoded`,
            path: `${core.slice(0, at)}%${letter[0].charCodeAt(0).toString(16).toUpperCase()}${core.slice(at + 1)}${trail}`,
          },
        ]
      : []),
    ...(last > 0
      ? [
          {
            probe: 'auth.path.encoded-slash',
            label: 'path with its last slash percent-encoded (%2F)',
            path: `${core.slice(0, last)}%2F${core.slice(last + 1)}${trail}`,
          },
        ]
      : []),
    { probe: 'auth.path.upper-case', label: 'path in upper case', path: path.toUpperCase() },
    { probe: 'auth.path.matrix-parameter', label: 'path with a ;parameter', path: `${core};gatecheck=1${trail}` },
  ];
  const seen = new Set([path]);
  return candidates.filter((c) => !seen.has(c.path) && seen.add(c.path));
}

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q === -1 ? [path, ''] : [path.slice(0, q), path.slice(q + 1)];
}

function swapCase(text: string): string {
  return [...text].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

function titleCase(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
