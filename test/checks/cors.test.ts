/**
 * The CORS check's pure parts: which exchanges it plans, how it judges each answer (the Fetch
 * rules of cors-fetch.ts plus the policy's own demands), and the Vary: Origin rule. Observations
 * are built by hand: no network.
 */
import { describe, expect, it } from 'vitest';
import { judgeCorsExchange, planCorsProbes, varyFindings, type CorsFinding } from '../../src/checks/cors/exchanges.js';
import { hostileOrigins } from '../../src/checks/cors/origins.js';
import type { ProbeRequest } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import type { CorsPolicy, HttpMethod, RoutePolicy } from '../../src/policy/types.js';

type CorsProbe = ReturnType<typeof planCorsProbes>[number];

const APP = 'https://app.example.com';
const ADMIN = 'https://admin.example.com:8443';
const EVIL = 'https://gatecheck-evil.example';
const ANY = 'https://gatecheck-any.example';
const KEY = 'k-123';

function route(method: HttpMethod = 'GET', authRequired = false): RoutePolicy {
  return {
    id: `${method} /api/items`,
    index: 0,
    name: 'items',
    method,
    path: '/api/items',
    ...(authRequired ? { auth: { required: true, credential: 'key', refuseStatus: [401, 403] } } : {}),
  };
}

function cors(overrides: Partial<CorsPolicy> = {}): CorsPolicy {
  return {
    allowOrigins: [APP],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['content-type', 'x-api-key'],
    exposeHeaders: [],
    allowCredentials: false,
    ...overrides,
  };
}

/** What routeRequest does for a route with an API key: the route's method and path, the key, the extra headers. */
const withKey =
  (r: RoutePolicy) =>
  (probe: string, headers: Record<string, string>): ProbeRequest => ({
    probe,
    method: r.method,
    path: r.path,
    headers: { 'x-api-key': KEY, ...headers },
  });

const plan = (c: CorsPolicy, r: RoutePolicy = route()) => planCorsProbes(r, c, withKey(r));

/** One line per planned exchange: kind, allow or block, origin. */
const outline = (probes: CorsProbe[]) => probes.map((p) => `${p.kind} ${p.mustAllow ? 'allow' : 'block'} ${p.origin}`);

function observation(request: ProbeRequest, status: number | undefined, headers: Record<string, string> = {}): Observation {
  return {
    probe: request.probe,
    method: request.method,
    path: request.path,
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 1,
    headers,
    ...(status === undefined ? { error: 'ECONNRESET' } : { status }),
  };
}

describe('planCorsProbes: which exchanges', () => {
  const hostileOf = (origins: string[]) => hostileOrigins(origins).map((h) => `actual block ${h.origin}`);
  const pair = (origin: string) => [`preflight allow ${origin}`, `actual allow ${origin}`];
  it.each<[string, CorsPolicy, RoutePolicy, string[]]>([
    [
      'one listed origin: preflight and request from it, then the hostile preflight and requests',
      cors(),
      route(),
      [`preflight allow ${APP}`, `actual allow ${APP}`, `preflight block ${EVIL}`, ...hostileOf([APP])],
    ],
    [
      'two listed origins: a pair for each, hostile origins derived from both',
      cors({ allowOrigins: [APP, ADMIN] }),
      route(),
      [
        `preflight allow ${APP}`,
        `actual allow ${APP}`,
        `preflight allow ${ADMIN}`,
        `actual allow ${ADMIN}`,
        `preflight block ${EVIL}`,
        ...hostileOf([APP, ADMIN]),
      ],
    ],
    ['"*": a stand-in allowed origin, no hostile origins (every origin is allowed)', cors({ allowOrigins: ['*'] }), route(), pair(ANY)],
    ['"*" and a listed origin: the listed one, no hostile origins', cors({ allowOrigins: ['*', APP] }), route(), pair(APP)],
    [
      'auth required: also a refused request from the first listed origin',
      cors({ allowOrigins: [APP, ADMIN] }),
      route('GET', true),
      [
        `preflight allow ${APP}`,
        `actual allow ${APP}`,
        `preflight allow ${ADMIN}`,
        `actual allow ${ADMIN}`,
        `actual-error allow ${APP}`,
        `preflight block ${EVIL}`,
        ...hostileOf([APP, ADMIN]),
      ],
    ],
    ['auth required with "*" only: no listed origin for the refused request', cors({ allowOrigins: ['*'] }), route('GET', true), pair(ANY)],
  ])('%s', (_name, c, r, expected) => {
    expect(outline(plan(c, r))).toEqual(expected);
  });

  it('hostile origins the policy lists itself are not probed as hostile', () => {
    const probes = plan(cors({ allowOrigins: [APP, 'null', 'http://app.example.com'] }));
    const blocked = probes.filter((p) => !p.mustAllow).map((p) => p.origin);
    expect(blocked).not.toContain('null');
    expect(blocked).not.toContain('http://app.example.com');
    expect(blocked).toContain('https://gatecheck-evil.app.example.com');
  });

  it('every hostile probe names the matching bug it would expose', () => {
    const hostile = plan(cors()).filter((p) => !p.mustAllow);
    expect(hostile.map((p) => p.bypass)).toEqual(['arbitrary origin reflected', ...hostileOrigins([APP]).map((h) => h.bypass)]);
  });
});

describe('planCorsProbes: the requests', () => {
  it.each<[string, HttpMethod, string[], string | undefined]>([
    ['headers sorted, lower-cased, safelisted left out', 'GET', ['X-Api-Key', 'content-type', 'Accept'], 'content-type,x-api-key'],
    ['a header named twice in two cases, once', 'PUT', ['Authorization', 'authorization'], 'authorization'],
    ['only safelisted headers: no Access-Control-Request-Headers', 'DELETE', ['accept', 'Accept-Language', 'content-language'], undefined],
    ['no headers: no Access-Control-Request-Headers', 'POST', [], undefined],
  ])('a preflight asks for the route method; %s', (_name, method, allowHeaders, requestHeaders) => {
    const r = route(method);
    const preflights = plan(cors({ allowHeaders, allowOrigins: [APP] }), r).filter((p) => p.kind === 'preflight');
    expect(preflights).toHaveLength(2);
    for (const p of preflights) {
      const expected: Record<string, string> = { origin: p.origin, 'access-control-request-method': method };
      if (requestHeaders !== undefined) expected['access-control-request-headers'] = requestHeaders;
      // A browser's preflight carries no credential: exactly these headers, no API key.
      const probe = p.mustAllow ? 'cors.preflight' : 'cors.preflight-hostile';
      expect(p.request).toEqual({ probe, method: 'OPTIONS', path: r.path, headers: expected });
    }
  });

  it('actual requests from allowed and hostile origins go with the credential; the refused one without', () => {
    const r = route('POST', true);
    const probes = plan(cors(), r);
    for (const p of probes.filter((q) => q.kind === 'actual')) {
      const probe = p.mustAllow ? 'cors.actual' : 'cors.hostile';
      expect(p.request).toEqual({ probe, method: 'POST', path: r.path, headers: { 'x-api-key': KEY, origin: p.origin } });
    }
    const refused = probes.find((p) => p.kind === 'actual-error')!;
    expect(refused.request).toEqual({ probe: 'cors.actual-error', method: 'POST', path: r.path, headers: { origin: APP } });
  });
});

/** The planned probe of a kind, for an allowed (or hostile) origin. */
function probeOf(c: CorsPolicy, kind: CorsProbe['kind'], mustAllow: boolean, origin: string): CorsProbe {
  const found = plan(c, route('GET', true)).find((p) => p.kind === kind && p.mustAllow === mustAllow && p.origin === origin);
  if (!found) throw new Error(`no ${kind} ${mustAllow ? 'allowed' : 'hostile'} probe from ${origin}`);
  return found;
}

function judge(c: CorsPolicy, probe: CorsProbe, status: number | undefined, headers: Record<string, string> = {}) {
  return judgeCorsExchange(probe, observation(probe.request, status, headers), c);
}

/** Access-Control-Allow-Origin: `origin`, and any other headers. */
const acao = (origin: string, more: Record<string, string> = {}) => ({ 'access-control-allow-origin': origin, ...more });
const ACAC = { 'access-control-allow-credentials': 'true' };
const CRED: Partial<CorsPolicy> = { allowCredentials: true };
const PREFLIGHT_OK = acao(APP, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type, x-api-key' });
/** The preflight answer with Access-Control-Allow-`name` set to `value` ('' leaves it out). */
const allow = (name: string, value: string, more: Record<string, string> = {}) => {
  const header = `access-control-allow-${name}`;
  const headers: Record<string, string> = { ...PREFLIGHT_OK, ...more, [header]: value };
  if (value === '') delete headers[header];
  return headers;
};

describe('judgeCorsExchange: a request from an allowed origin', () => {
  it.each<[string, Partial<CorsPolicy>, number | undefined, Record<string, string>, string, RegExp]>([
    ['ACAO is the origin', {}, 200, acao(APP), 'ok', /^Access-Control-Allow-Origin: https:\/\/app/],
    ['ACAO is the origin on a 404 (CORS is about reading, not status)', {}, 404, acao(APP), 'ok', /Allow-Origin/],
    ['no ACAO', {}, 200, {}, 'violation', /^allowed origin refused: no Access-Control-Allow-Origin$/],
    ['ACAO is another origin', {}, 200, acao(ADMIN), 'violation', /allowed origin refused: .*not the request's origin/],
    ['two ACAO values', {}, 200, { 'access-control-allow-origin': `${APP}, ${ADMIN}` }, 'violation', /several values/],
    ['"*" although the policy lists origins', {}, 200, acao('*'), 'violation', /^Access-Control-Allow-Origin: \* although/],
    ['credentialed: ACAO and ACAC true', CRED, 200, acao(APP, ACAC), 'ok', /with Allow-Credentials/],
    ['credentialed: no ACAC', CRED, 200, acao(APP), 'violation', /Allow-Credentials is not "true"/],
    ['credentialed: "*" with ACAC', CRED, 200, acao('*', ACAC), 'violation', /\* is not accepted/],
    ['a 500 is no usable answer', {}, 500, acao(APP), 'unresolved', /^no usable answer \(500\)$/],
    ['a 503 is no usable answer', {}, 503, {}, 'unresolved', /\(503\)/],
    ['a reset connection is no usable answer', {}, undefined, {}, 'unresolved', /\(ECONNRESET\)/],
  ])('%s → $4', (_name, overrides, status, headers, outcome, note) => {
    const c = cors(overrides);
    const finding = judge(c, probeOf(c, 'actual', true, APP), status, headers);
    expect(finding.outcome).toBe(outcome);
    expect(finding.note).toMatch(note);
  });

  it('not sent (run cap reached) is unresolved, with no observation', () => {
    const finding = judgeCorsExchange(probeOf(cors(), 'actual', true, APP), undefined, cors());
    expect(finding).toMatchObject({ outcome: 'unresolved', note: 'no usable answer (not sent (run cap reached))' });
    expect(finding).not.toHaveProperty('observation');
  });

  it.each<[string, boolean, Record<string, string>, string]>([
    ['"*" without credentials', false, acao('*'), 'ok'],
    ['the stand-in origin reflected', false, acao(ANY), 'ok'],
    ['nothing', false, {}, 'violation'],
    // A browser never accepts "*" for a credentialed request, whatever the policy says.
    ['"*" with credentials', true, acao('*', ACAC), 'violation'],
  ])('a "*" policy: %s → $3', (_name, allowCredentials, headers, outcome) => {
    const c = cors({ allowOrigins: ['*'], allowCredentials });
    expect(judge(c, probeOf(c, 'actual', true, ANY), 200, headers).outcome).toBe(outcome);
  });
});

describe('judgeCorsExchange: an error response to an allowed origin (the refused request)', () => {
  it.each<[string, Partial<CorsPolicy>, number, Record<string, string>, string, string | undefined]>([
    // Without CORS headers the browser hides the 401/403 from the page: it sees a network error.
    ['403 without CORS headers', {}, 403, {}, 'violation', 'error-without-cors'],
    ['401 without CORS headers', {}, 401, { 'www-authenticate': 'Bearer' }, 'violation', 'error-without-cors'],
    ['403 with ACAO', {}, 403, acao(APP), 'ok', undefined],
    ['403 with "*" although the policy lists origins', {}, 403, acao('*'), 'violation', 'wildcard'],
    ['credentialed: 403 with ACAO but no ACAC', CRED, 403, acao(APP), 'violation', 'error-without-cors'],
    ['credentialed: 403 with ACAO and ACAC', CRED, 403, acao(APP, ACAC), 'ok', undefined],
    // No refusal at all (the auth check's business): a 200 the browser hides is the allowed origin refused.
    ['200 without CORS headers', {}, 200, {}, 'violation', 'refused'],
    ['502', {}, 502, {}, 'unresolved', undefined],
  ])('%s → $4 ($5)', (_name, overrides, status, headers, outcome, problem) => {
    const c = cors(overrides);
    const judged = judge(c, probeOf(c, 'actual-error', true, APP), status, headers);
    expect(judged.outcome).toBe(outcome);
    expect(judged.problem).toBe(problem);
  });
});

describe('judgeCorsExchange: a preflight from an allowed origin', () => {
  it.each<[string, Partial<CorsPolicy>, number, Record<string, string>, string, RegExp]>([
    ['204 with origin, methods and headers', {}, 204, PREFLIGHT_OK, 'ok', /allows GET and content-type, x-api-key/],
    ['200 is as good as 204', {}, 200, PREFLIGHT_OK, 'ok', /allows GET/],
    ['403', {}, 403, PREFLIGHT_OK, 'violation', /preflight answered 403, not 2xx/],
    ['404 without CORS headers', {}, 404, {}, 'violation', /preflight answered 404/],
    ['no ACAO', {}, 204, allow('origin', ''), 'violation', /refused/],
    ['"*" although the policy lists origins', {}, 204, allow('origin', '*'), 'violation', /\* although/],
    ['a policy method missing', { allowMethods: ['GET', 'POST', 'DELETE'] }, 204, PREFLIGHT_OK, 'violation', /Allow-Methods lacks DELETE$/],
    ['two policy methods missing', { allowMethods: ['GET', 'PUT', 'DELETE'] }, 204, PREFLIGHT_OK, 'violation', /lacks PUT, DELETE$/],
    ['methods lower-cased by the gateway', {}, 204, allow('methods', 'get,post'), 'ok', /allows GET/],
    ['"*" methods without credentials', { allowMethods: ['GET', 'PUT'] }, 204, allow('methods', '*'), 'ok', /allows/],
    [
      // Fetch: `*` is a wildcard only for requests without credentials; a credentialed PUT is refused.
      '"*" methods with credentials',
      { allowMethods: ['GET', 'PUT'], allowCredentials: true },
      204,
      allow('methods', '*', ACAC),
      'violation',
      /^Access-Control-Allow-Methods lacks GET, PUT \("\*" is no wildcard for credentialed requests\)$/,
    ],
    ['a policy header missing', {}, 204, allow('headers', 'content-type'), 'violation', /header x-api-key not in/],
    ['no Allow-Headers at all', {}, 204, allow('headers', ''), 'violation', /header content-type not in/],
    ['"*" headers without credentials', {}, 204, allow('headers', '*'), 'ok', /allows/],
    ['"*" headers with credentials', CRED, 204, allow('headers', '*', ACAC), 'violation', /header/],
    ['"*" never covers Authorization', { allowHeaders: ['authorization'] }, 204, allow('headers', '*'), 'violation', /authorization/],
    ['credentialed without ACAC', CRED, 204, PREFLIGHT_OK, 'violation', /Allow-Credentials is not "true"/],
    ['credentialed with ACAC', CRED, 204, { ...PREFLIGHT_OK, ...ACAC }, 'ok', /with Allow-Credentials/],
    ['a 5xx is no usable answer', {}, 500, PREFLIGHT_OK, 'unresolved', /\(500\)/],
  ])('%s → $4', (_name, overrides, status, headers, outcome, note) => {
    const c = cors(overrides);
    const finding = judge(c, probeOf(c, 'preflight', true, APP), status, headers);
    expect(finding.outcome).toBe(outcome);
    expect(finding.note).toMatch(note);
  });

  it.each<[string, number, string | undefined, string, RegExp]>([
    ['the policy value', 600, '600', 'ok', /Max-Age 600$/],
    ['another value', 600, '60', 'violation', /^Access-Control-Max-Age is 60, policy says 600$/],
    ['absent', 600, undefined, 'violation', /is absent \(browsers use 5 s\), policy says 600/],
    ['not a number', 600, 'ten', 'violation', /is absent .*policy says 600/],
    ["above Chromium's cap", 86_400, '86400', 'ok', /Max-Age 86400 \(Chromium caps it at 7200 s\)/],
    ["at Chromium's cap", 7_200, '7200', 'ok', /Max-Age 7200$/],
    // What Chromium would apply (7200 either way) is not what the policy asks the gateway to say.
    ["Chromium's cap where the policy says more", 86_400, '7200', 'violation', /is 7200, policy says 86400$/],
  ])('Max-Age %s (policy %i, header %s) → %s', (_name, maxAge, header, outcome, note) => {
    const c = cors({ maxAge });
    const headers: Record<string, string> = header === undefined ? PREFLIGHT_OK : { ...PREFLIGHT_OK, 'access-control-max-age': header };
    const finding = judge(c, probeOf(c, 'preflight', true, APP), 204, headers);
    expect(finding.outcome).toBe(outcome);
    expect(finding.note).toMatch(note);
  });

  it('no Max-Age in the policy: any value, or none, is fine', () => {
    for (const headers of [PREFLIGHT_OK, { ...PREFLIGHT_OK, 'access-control-max-age': '1' }]) {
      expect(judge(cors(), probeOf(cors(), 'preflight', true, APP), 204, headers).outcome).toBe('ok');
    }
  });

  it('a missing method is reported before a wrong Max-Age', () => {
    const c = cors({ allowMethods: ['GET', 'PATCH'], maxAge: 600 });
    expect(judge(c, probeOf(c, 'preflight', true, APP), 204, PREFLIGHT_OK).note).toMatch(/lacks PATCH/);
  });
});

describe('judgeCorsExchange: hostile origins', () => {
  const SUFFIX = 'https://gatecheck-evilapp.example.com';
  const HTTP = 'http://app.example.com';
  it.each<[string, string, Partial<CorsPolicy>, number, Record<string, string>, string, RegExp]>([
    ['no ACAO', EVIL, {}, 200, {}, 'ok', /^blocked: no Access-Control-Allow-Origin$/],
    ['the static allowed origin', EVIL, {}, 200, acao(APP), 'ok', /^blocked: .*not the request's origin/],
    ['reflected', EVIL, {}, 200, acao(EVIL), 'violation', /^arbitrary origin reflected: Access-Control-Allow-Origin: https/],
    ['"null" reflected', 'null', {}, 200, acao('null'), 'violation', /^"null" origin allowed/],
    ['a suffix match', SUFFIX, {}, 200, acao(SUFFIX), 'violation', /^suffix match on/],
    ['http:// accepted', HTTP, {}, 200, acao(HTTP), 'violation', /^http:\/\/ accepted/],
    ['reflected on a 403', EVIL, {}, 403, acao(EVIL), 'violation', /reflected/],
    ['"*"', EVIL, {}, 200, acao('*'), 'violation', /^arbitrary origin reflected: Access-Control-Allow-Origin: \* although/],
    // A browser refuses "*" to a credentialed request, but any page can still read the answer without credentials.
    ['"*" under a credentialed policy', EVIL, CRED, 200, acao('*', ACAC), 'violation', /\* although/],
    ['reflected with ACAC under a credentialed policy', EVIL, CRED, 200, acao(EVIL, ACAC), 'violation', /reflected.*user's credentials\)$/],
    // The hostile page chooses: without credentials an echoed origin is enough to read.
    [
      'reflected without ACAC under a credentialed policy',
      EVIL,
      CRED,
      200,
      acao(EVIL),
      'violation',
      /reflected: Access-Control-Allow-Origin: https/,
    ],
    ['a 500 is no usable answer', EVIL, {}, 500, acao(EVIL), 'unresolved', /\(500\)/],
  ])('%s ($1) → $5', (_name, origin, overrides, status, headers, outcome, note) => {
    const probe = probeOf(cors(), 'actual', false, origin);
    const finding = judgeCorsExchange(probe, observation(probe.request, status, headers), cors(overrides));
    expect(finding.outcome).toBe(outcome);
    expect(finding.note).toMatch(note);
  });

  it.each<[string, number, Record<string, string>, string]>([
    ['refused with 403', 403, {}, 'ok'],
    ['204 without CORS headers', 204, {}, 'ok'],
    ['204 for the allowed origin only', 204, PREFLIGHT_OK, 'ok'],
    ['204 reflecting the hostile origin', 204, allow('origin', EVIL), 'violation'],
    ['204 with "*"', 204, allow('origin', '*'), 'violation'],
  ])('a hostile preflight %s → $3', (_name, status, headers, outcome) => {
    expect(judge(cors(), probeOf(cors(), 'preflight', false, EVIL), status, headers).outcome).toBe(outcome);
  });
});

describe('varyFindings: an ACAO that depends on the Origin needs Vary: Origin', () => {
  const c = cors({ allowOrigins: [APP, ADMIN] });
  const probes = plan(c);
  const hostileProbes = probes.filter((p) => p.kind === 'actual' && !p.mustAllow);
  const judged = (probe: CorsProbe, status: number, headers: Record<string, string> = {}) =>
    judgeCorsExchange(probe, observation(probe.request, status, headers), c);

  /** Findings as the check makes them: each allowed origin's answer, and `hostileAcao` for every hostile origin. */
  function findings(allowed: Array<[string, Record<string, string>]>, hostileAcao?: string): CorsFinding[] {
    const actual = (origin: string) => probes.find((p) => p.kind === 'actual' && p.mustAllow && p.origin === origin)!;
    return [
      ...allowed.map(([origin, headers]) => judged(actual(origin), 200, headers)),
      ...hostileProbes.map((p) => judged(p, 200, hostileAcao === undefined ? {} : acao(hostileAcao))),
    ];
  }
  const reflected = (origin: string, vary?: string) => acao(origin, vary === undefined ? {} : { vary });
  const problem = (origin: string) => `response for ${origin} varies by Origin but has no \`Vary: Origin\``;

  it.each<[string, Array<[string, Record<string, string>]>, string | undefined, string[]]>([
    ['reflected, hostile origins get none, no Vary', [[APP, reflected(APP)]], undefined, [APP]],
    ['reflected with Vary: Origin', [[APP, reflected(APP, 'Origin')]], undefined, []],
    ['reflected with Vary: origin (names are case-insensitive)', [[APP, reflected(APP, 'origin')]], undefined, []],
    ['reflected with Vary: Accept-Encoding, Origin', [[APP, reflected(APP, 'Accept-Encoding, Origin')]], undefined, []],
    ['reflected with Vary: *', [[APP, reflected(APP, '*')]], undefined, []],
    ['reflected with Vary: Accept-Encoding only', [[APP, reflected(APP, 'Accept-Encoding')]], undefined, [APP]],
    [
      'two origins, only one with Vary',
      [
        [APP, reflected(APP, 'Origin')],
        [ADMIN, reflected(ADMIN)],
      ],
      undefined,
      [ADMIN],
    ],
    [
      'two origins, neither with Vary',
      [
        [APP, reflected(APP)],
        [ADMIN, reflected(ADMIN)],
      ],
      undefined,
      [APP, ADMIN],
    ],
    // The same value whatever the Origin: nothing varies, so no cache can mix origins up.
    ['the same static ACAO for every origin, hostile ones included', [[APP, reflected(APP)]], APP, []],
    ['"*" for everyone', [[APP, reflected('*')]], '*', []],
  ])('%s → problems for %j', (_name, allowed, hostileAcao, origins) => {
    expect(varyFindings(findings(allowed, hostileAcao))).toEqual(origins.map(problem));
  });

  it('an allowed origin refused is not asked for Vary (it is already a violation)', () => {
    const list = findings([[APP, {}]]);
    expect(list[0]!.outcome).toBe('violation');
    expect(varyFindings(list)).toEqual([]);
  });

  it('preflights and the refused request are not asked for Vary', () => {
    const all = plan(c, route('GET', true));
    // Each answers with the ACAO of its own origin, no Vary; the hostile requests get nothing. Counted,
    // APP's preflight and refused request would vary by Origin.
    const others = all
      .filter((p) => p.kind !== 'actual')
      .map((p) => judged(p, p.kind === 'preflight' ? 204 : 403, allow('origin', p.origin)));
    expect(others.filter((f) => f.probe.mustAllow).every((f) => f.outcome === 'ok')).toBe(true);
    expect(varyFindings([...others, ...hostileProbes.map((p) => judged(p, 200))])).toEqual([]);
  });

  it('an ACAO of "*" never needs Vary, even beside answers without one', () => {
    // Built by hand: "*" for the allowed origin, nothing for hostile ones (a "*" policy never plans these).
    const star = findings([[APP, acao('*')]]);
    star[0] = { ...star[0]!, outcome: 'ok', note: 'ok' };
    expect(varyFindings(star)).toEqual([]);
  });

  it('without hostile answers nothing shows a dependence on the Origin', () => {
    expect(varyFindings(findings([[APP, reflected(APP)]]).filter((f) => f.probe.mustAllow))).toEqual([]);
  });

  it.each<[string, number | undefined]>([
    ['502', 502],
    ['a reset connection', undefined],
  ])('a hostile exchange with no usable answer (%s) says nothing about Vary: a static ACAO stays unflagged', (_name, status) => {
    // The gateway always sends ACAO: APP; one hostile probe got no usable answer, so no CORS headers.
    const list = findings([[APP, reflected(APP)]], APP);
    const last = list.length - 1;
    list[last] = judgeCorsExchange(list[last]!.probe, observation(list[last]!.probe.request, status), c);
    expect(list[last].outcome).toBe('unresolved');
    expect(varyFindings(list)).toEqual([]);
  });
});
