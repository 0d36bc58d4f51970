/**
 * The auth check end to end: against a JWT-verifying test gateway (written here, with keys made
 * here) with one flaw at a time, against the reference gateway with and without auth, and against
 * real nginx with and without its key check. Each flaw must be caught by the variant that
 * exploits it, the correct gateways must pass, and no secret or derived value may reach a report.
 */
import { createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { authCheck } from '../../src/checks/auth/check.js';
import { signJwt } from '../../src/checks/auth/jwt.js';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { CheckResult } from '../../src/checks/types.js';
import { applyGate, isoDay } from '../../src/gate/gate.js';
import { startGateway } from '../../src/gateway/server.js';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { REPO, runCli } from '../support/cli.js';
import { nginxAvailable, startNginx } from '../support/nginx.js';
import { runCheck } from '../support/run-check.js';

/** The auth check the way `gatecheck run` runs it, minus the CLI; what a report would show of it. */
async function checkAuth(policy: Policy, baseUrl: string, routeIndex = 0): Promise<CheckResult> {
  const run = await runCheck(authCheck, policy, baseUrl, routeIndex);
  // A recording judged again (`gatecheck judge`) gives the same verdict: evaluate reads only what was recorded.
  const recorded = JSON.parse(JSON.stringify(run.collected)) as typeof run.collected;
  const spec = authCheck.select(policy).find((i) => i.route === policy.routes[routeIndex]!.id)!.spec;
  expect(authCheck.evaluate(spec, recorded, policy)).toEqual(run.verdict);
  // The probes the policy announces (plan, expected) are the ones collect sent, random values and all.
  expect(run.collected.notes.probes.slice(1).map((p) => p.label)).toEqual(run.expected.variants);
  const route = policy.routes[routeIndex]!.id;
  const id = `auth:${route}`;
  const findings = qualifyFindings(id, run.verdict);
  const raw = { id, kind: 'auth', route, ...run.verdict, findings, expected: run.expected, durationMs: 0, requestsSent: 0 };
  // As a run reports it: settled by the default gate, every string through the run's redactor (as writeReports does).
  const [gated] = applyGate([raw as unknown as CheckResult], { failOn: 'high', today: isoDay(new Date()) }).checks;
  return run.redactor.redactDeep(gated!);
}

const bypassProbes = (result: CheckResult): string[] =>
  result.evidence
    .filter((e) => e.outcome === 'violation')
    .map((e) => e.probe)
    .sort();

// ---------------------------------------------------------------------------------------------
// A JWT gateway double in the style of an API Gateway HTTP API JWT authorizer (RS256 only, 401
// with www-authenticate), with one flaw at a time.

type Flaw =
  | 'none'
  | 'alg-none-any-case'
  | 'alg-none-blocklist'
  | 'no-signature-check'
  | 'no-exp-check'
  | 'query-token'
  | 'path-normalising'
  | 'method-override';

const issuer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const issuerPublic = createPublicKey(issuer.privateKey);
const nowSec = Math.floor(Date.now() / 1000);
const claims = { sub: 'ada', iss: 'https://issuer.example', aud: 'gatecheck-e2e', iat: nowSec - 60, exp: nowSec + 3600 };
const TOKEN = signJwt({ typ: 'JWT', kid: 'e2e' }, claims, 'RS256', { kind: 'private', key: issuer.privateKey });
const EXPIRED = signJwt({ typ: 'JWT', kid: 'e2e' }, { ...claims, iat: nowSec - 7200, exp: nowSec - 3600 }, 'RS256', {
  kind: 'private',
  key: issuer.privateKey,
});

function segmentJson(segment: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** True when `token` is accepted under `flaw`. */
function accepts(token: string, flaw: Flaw): boolean {
  const [h = '', p = '', s] = token.split('.');
  const header = segmentJson(h);
  const payload = segmentJson(p);
  if (!header || !payload) return false;
  const alg = String(header.alg);
  const unexpired = typeof payload.exp === 'number' && payload.exp > Date.now() / 1000;
  if (flaw === 'alg-none-any-case' && alg.toLowerCase() === 'none') return unexpired;
  // The historical bug: `none` refused by an exact-match blocklist, its other casings treated as unsigned.
  if (flaw === 'alg-none-blocklist' && alg !== 'none' && alg.toLowerCase() === 'none') return unexpired;
  if (alg !== 'RS256') return false;
  const signed =
    flaw === 'no-signature-check' ||
    (s !== undefined && s !== '' && cryptoVerify('sha256', Buffer.from(`${h}.${p}`), issuerPublic, Buffer.from(s, 'base64url')));
  return signed && (unexpired || flaw === 'no-exp-check') && payload.aud === 'gatecheck-e2e';
}

async function startJwtGateway(flaw: Flaw): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method =
      flaw === 'method-override' && req.method === 'POST' ? String(req.headers['x-http-method-override'] ?? 'POST') : req.method;
    const path = flaw === 'path-normalising' ? url.pathname.replace(/\/+$/, '') || '/' : url.pathname;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    if (path !== '/me' || method !== 'GET') return send(404, { message: 'Not Found' });
    // The authorizer was bound to /me exactly.
    if (flaw === 'path-normalising' && url.pathname !== '/me') return send(200, { sub: 'anyone' });
    if (flaw === 'method-override' && req.method === 'POST') return send(200, { sub: 'anyone' }); // no authorizer on POST
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : flaw === 'query-token' ? (url.searchParams.get('access_token') ?? '') : '';
    if (accepts(bearer, flaw)) return send(200, { sub: 'ada' });
    send(
      401,
      { message: 'Unauthorized' },
      { 'www-authenticate': 'Bearer scope="" error="invalid_token" error_description="the token is not valid"' },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jwtPolicy(withExpired: boolean): Policy {
  const yaml = [
    'version: 1',
    'vendor: aws-http',
    'credentials:',
    `  user: { header: authorization, scheme: Bearer, kind: jwt, value: "\${JWT}"${withExpired ? ', expiredValue: "${JWT_OLD}"' : ''} }`,
    'routes:',
    '  - { method: GET, path: /me, auth: { required: true, credential: user, refuseStatus: [401] } }',
  ].join('\n');
  return parsePolicy(yaml, 'jwt.yaml', { env: { JWT: TOKEN, JWT_OLD: EXPIRED } });
}

const FLAW_BYPASSES: Record<Exclude<Flaw, 'none'>, string[]> = {
  'alg-none-any-case': ['auth.jwt.alg-NONE', 'auth.jwt.alg-None', 'auth.jwt.alg-nOnE', 'auth.jwt.alg-none'],
  'alg-none-blocklist': ['auth.jwt.alg-NONE', 'auth.jwt.alg-None', 'auth.jwt.alg-nOnE'],
  // Without a signature check, a token with a cut or lengthened signature passes too.
  'no-signature-check': ['auth.extended', 'auth.jwt.other-key', 'auth.jwt.signature-stripped', 'auth.jwt.two-segments', 'auth.truncated'],
  'no-exp-check': ['auth.jwt.expired'],
  'query-token': ['auth.query.access_token'],
  'path-normalising': ['auth.path.trailing-slash'],
  // The double honours X-HTTP-Method-Override only, as Express's method-override does by default.
  'method-override': ['auth.override.x-http-method-override'],
};

describe('auth check against a JWT gateway', () => {
  it("passes a correct RS256 verifier, reading its refusals as the AWS JWT authorizer's", async () => {
    const gateway = await startJwtGateway('none');
    try {
      const result = await checkAuth(jwtPolicy(true), gateway.url);
      expect(result.status, result.summary).toBe('pass');
      const jwt = result.evidence.filter((e) => e.probe.startsWith('auth.jwt.'));
      expect(jwt.map((e) => e.probe)).toHaveLength(9);
      expect(jwt.every((e) => e.status === 401 && /JWT authorizer \(invalid_token\)/.test(e.note ?? ''))).toBe(true);
      // The control under another casing of the header name is accepted, and that is fine.
      expect(result.evidence.find((e) => e.probe === 'auth.header-case.AUTHORIZATION')).toMatchObject({ status: 200, outcome: 'ok' });
    } finally {
      await gateway.close();
    }
  });

  it.each(Object.entries(FLAW_BYPASSES))('catches %s with exactly the variants that exploit it', async (flaw, expected) => {
    const gateway = await startJwtGateway(flaw as Flaw);
    try {
      const result = await checkAuth(jwtPolicy(true), gateway.url);
      expect(result.status).toBe('fail');
      expect(bypassProbes(result)).toEqual([...expected].sort());
      expect(result.summary).toMatch(/got through without a valid credential/);
      // One critical, gating finding per bypass, named after its variant and pointing at its exchange.
      const found = result.findings.map((f) => [f.id, f.severity, f.disposition, result.evidence[f.evidence[0]!]!.probe]);
      const bypassId = (probe: string) =>
        `auth:GET /me#bypass:${probe
          .slice('auth.'.length)
          .toLowerCase()
          .replace(/[^a-z0-9.]+/g, '-')}`;
      expect(found.sort()).toEqual(expected.map((probe) => [bypassId(probe), 'critical', 'gating', probe]).sort());
    } finally {
      await gateway.close();
    }
  });

  it('needs an issuer-signed expired token to catch a verifier that ignores exp', async () => {
    const gateway = await startJwtGateway('no-exp-check');
    try {
      // Without expiredValue, the only expired token gatecheck can make has a broken signature.
      const result = await checkAuth(jwtPolicy(false), gateway.url);
      expect(result.status).toBe('pass');
      expect(result.evidence.find((e) => e.probe === 'auth.jwt.expired-claims')?.status).toBe(401);
    } finally {
      await gateway.close();
    }
  });

  it('never shows the token, the expired token or any forgery of them', async () => {
    const gateway = await startJwtGateway('alg-none-any-case');
    try {
      const shown = JSON.stringify(await checkAuth(jwtPolicy(true), gateway.url));
      const [, payload, signature] = TOKEN.split('.');
      for (const secret of [TOKEN, EXPIRED, payload!, signature!, EXPIRED.split('.')[1]!, TOKEN.slice(0, -1)])
        expect(shown).not.toContain(secret);
      expect(shown).toContain('<credential user, JWT with alg \\"none\\" and no signature>');
      expect(shown).toContain('<credential user>');
    } finally {
      await gateway.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

const API_KEY = 'e2e-auth-key-5b8d1f3a9c';
const referencePolicy = (): Policy =>
  loadPolicyFile(join(REPO, 'test/fixtures/policies/reference.yaml'), { env: { GATECHECK_API_KEY: API_KEY } });
const CREDENTIAL_BYPASSES = [
  'auth.case-flipped',
  'auth.empty',
  'auth.extended',
  'auth.missing',
  'auth.query.api_key',
  'auth.query.x-api-key',
  'auth.truncated',
  'auth.wrong',
];

describe('auth check against the reference gateway', () => {
  it('passes when the API key is enforced; unknown path spellings are read as AWS does', async () => {
    const policy = referencePolicy();
    const gateway = await startGateway({ policy });
    try {
      const result = await checkAuth(policy, gateway.url);
      expect(result.status, result.summary).toBe('pass');
      const slash = result.evidence.find((e) => e.probe === 'auth.path.trailing-slash')!;
      expect(slash).toMatchObject({ status: 403, outcome: 'ok' });
      expect(slash.note).toMatch(/Missing Authentication Token: AWS answers so for an unknown resource/);
      expect(result.evidence.find((e) => e.probe === 'auth.wrong')!.note).toMatch(/INVALID_API_KEY/);
    } finally {
      await gateway.close();
    }
  });

  it('fails with auth-off, listing every credential variant and no unrouted path as a bypass', async () => {
    const policy = referencePolicy();
    const gateway = await startGateway({ policy, faults: ['auth-off'] });
    try {
      const result = await checkAuth(policy, gateway.url);
      expect(result.status).toBe('fail');
      expect(bypassProbes(result)).toEqual(CREDENTIAL_BYPASSES);
    } finally {
      await gateway.close();
    }
  });

  it('keeps derived keys out of every file the CLI writes', async () => {
    const policy = referencePolicy();
    const gateway = await startGateway({ policy, faults: ['auth-off'] });
    try {
      const run = await runCli(
        ['run', '--policy', join(REPO, 'test/fixtures/policies/reference.yaml'), '--target', gateway.url, '--only', 'auth'],
        { GATECHECK_API_KEY: API_KEY },
      );
      // Two keyed routes in the reference policy (/api/items, /api/checkout): both let anyone through.
      expect(run.report?.checks.map((c) => `${c.kind}=${c.status}`)).toEqual(['auth=fail', 'auth=fail']);
      const flipped = [...API_KEY].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
      for (const file of ['report.md', 'report.json', 'junit.xml']) {
        const text = readFileSync(join(run.outDir, file), 'utf8');
        for (const secret of [API_KEY, API_KEY.slice(0, -1), `${API_KEY}0`, flipped, encodeURIComponent(API_KEY)])
          expect(text, file).not.toContain(secret);
      }
      // Markdown escapes the placeholder: shown, never read as HTML.
      expect(readFileSync(join(run.outDir, 'report.md'), 'utf8')).toContain('&lt;credential main, truncated&gt;');
      expect(run.stdout + run.stderr).not.toContain(API_KEY.slice(0, -1));
    } finally {
      await gateway.close();
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

const NGINX_KEY = 'nginx-auth-key-4e6a2c8b0d';
const skipNginx = !nginxAvailable() && !process.env.CI;

describe.skipIf(skipNginx)('auth check against real nginx', () => {
  const policy = parsePolicy(
    [
      'version: 1',
      'vendor: plain',
      'credentials:',
      '  main: { header: x-api-key, value: "${K}" }',
      'routes:',
      '  - { method: GET, path: /api/items, auth: { required: true, credential: main }, throttle: { rateLimit: 50, burstLimit: 21 } }',
    ].join('\n'),
    'nginx.yaml',
    { env: { K: NGINX_KEY } },
  );
  let results: Record<'correct' | 'auth-off', CheckResult>;
  beforeAll(async () => {
    const out: Partial<Record<'correct' | 'auth-off', CheckResult>> = {};
    for (const variant of ['correct', 'auth-off'] as const) {
      const nginx = await startNginx({ variant, apiKey: NGINX_KEY });
      try {
        out[variant] = await checkAuth(policy, nginx.url);
      } finally {
        await nginx.stop();
      }
    }
    results = out as typeof results;
  }, 60_000);

  it('passes the correct config: case-flipped and truncated keys refused, path spellings 404 or refused', () => {
    expect(results.correct.status, results.correct.summary).toBe('pass');
    const statuses = Object.fromEntries(results.correct.evidence.map((e) => [e.probe, e.status]));
    expect(statuses).toMatchObject({
      'auth.control': 200,
      'auth.case-flipped': 403,
      'auth.truncated': 403,
      'auth.path.upper-case': 404,
      'auth.path.leading-double-slash': 403,
    });
    expect(statuses['auth.header-case.X-API-KEY']).toBe(200);
  });

  it('fails auth-off, naming the variants that got through', () => {
    expect(results['auth-off'].status).toBe('fail');
    expect(bypassProbes(results['auth-off'])).toEqual(expect.arrayContaining(CREDENTIAL_BYPASSES));
    // nginx merges slashes and resolves /./ and %69 before matching: those spellings reach the same, now open, location.
    expect(bypassProbes(results['auth-off'])).toEqual(
      expect.arrayContaining(['auth.path.leading-double-slash', 'auth.path.dot-segment', 'auth.path.percent-encoded']),
    );
  });
});
