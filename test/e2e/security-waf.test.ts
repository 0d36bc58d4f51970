/**
 * The WAF check end to end: against the reference gateway (correct, waf-off, broken backends) and
 * against real nginx + ModSecurity + OWASP CRS 3.3 (blocking, DetectionOnly, off). The CRS run
 * also measures the rule set on the whole corpus, every payload in every placement and encoding,
 * and prints the block rate per category and the false-positive rate.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { wafCheck } from '../../src/checks/waf/check.js';
import type { FaultName } from '../../src/gateway/faults.js';
import { startGateway } from '../../src/gateway/server.js';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import { WAF_CATEGORIES, type Policy } from '../../src/policy/types.js';
import { Redactor } from '../../src/util/redact.js';
import { REPO } from '../support/cli.js';
import { nginxAvailable, nginxPolicyYaml, startNginx, type NginxVariant } from '../support/nginx.js';
import { runDefinition } from '../support/run-definition.js';

type Rates = Record<string, { sent: number; blocked: number; passed: number; unresolved: number; blockRate: number | null }>;

async function checkWaf(policy: Policy, baseUrl: string, routeIndex = 0): Promise<{ result: CheckResult; wallMs: number }> {
  const route = policy.routes[routeIndex]!.id;
  const { result, collected, wallMs } = await runDefinition(wafCheck, policy, baseUrl, { route });
  // evaluate is pure: what was collected, judged again, gives the same verdict (before the gate).
  const { spec } = wafCheck.select(policy).find((i) => i.route === route)!;
  const again = wafCheck.evaluate(spec, collected, { ...policy, target: baseUrl });
  expect({ observed: again.observed, evidence: again.evidence }).toEqual({ observed: result.observed, evidence: result.evidence });
  expect(again.findings.map((f) => `${result.id}#${f.id}`)).toEqual(result.findings.map((f) => f.id));
  return { result, wallMs };
}

const byCategory = (r: CheckResult): Rates => r.observed.byCategory as Rates;
const byPlacement = (r: CheckResult): Rates => r.observed.byPlacement as Rates;

// ---------------------------------------------------------------------------------------------

const API_KEY = 'e2e-waf-key-8c2e4a6f1b';
const REFERENCE = join(REPO, 'test/fixtures/policies/reference.yaml');

/** The reference policy plus a POST route, so the body placements are exercised too. */
function referencePolicy(): Policy {
  const get = loadPolicyFile(REFERENCE, { env: { GATECHECK_API_KEY: API_KEY } });
  const post = parsePolicy(
    [
      'version: 1',
      'credentials:',
      '  main: { value: "${K}" }',
      'routes:',
      '  - { method: POST, path: /api/orders, auth: { required: true, credential: main }, waf: { blockStatus: [403] } }',
    ].join('\n'),
    'post.yaml',
    { env: { K: API_KEY } },
  );
  return { ...get, routes: [get.routes[0]!, { ...post.routes[0]!, index: 1 }] };
}

describe('waf check against the reference gateway', () => {
  const policy = referencePolicy();
  const runs: Partial<Record<'correct' | FaultName, CheckResult[]>> = {};
  const wall: Record<string, number> = {};
  beforeAll(async () => {
    for (const fault of ['correct', 'waf-off'] as const) {
      const gateway = await startGateway({ policy, faults: fault === 'correct' ? [] : [fault] });
      try {
        runs[fault] = [];
        for (const index of [0, 1]) {
          const { result, wallMs } = await checkWaf(policy, gateway.url, index);
          runs[fault].push(result);
          wall[`${fault} ${result.route}`] = wallMs;
        }
      } finally {
        await gateway.close();
      }
    }
    console.log(`waf check wall time on the reference gateway (ms): ${JSON.stringify(wall)}`);
  }, 60_000);

  it('passes the correct gateway: every category blocked everywhere, no benign request blocked', () => {
    for (const result of runs.correct!) {
      expect(result.status, result.summary).toBe('pass');
      expect(result.observed).toMatchObject({ blockRate: 1, falsePositiveRate: 0, unresolved: 0, benignUnresolved: 0 });
      expect(Object.keys(byCategory(result))).toEqual([...WAF_CATEGORIES]);
    }
    const [get, post] = runs.correct!;
    expect(get!.observed).toMatchObject({ attacks: 81, benign: 52 });
    expect(post!.observed).toMatchObject({ attacks: 126, benign: 78 });
    expect(Object.keys(byPlacement(post!))).toEqual(['query', 'path', 'header', 'cookie', 'json', 'form']);
  });

  it('judges the path placement by AWS wording: 403 Missing Authentication Token got past the WAF, 403 Forbidden did not', () => {
    const get = runs.correct![0]!;
    expect(get.observed.pathPlacementNormalAnswer).toBe(403);
    expect(byPlacement(get).path).toMatchObject({ sent: 27, blocked: 27 });
    const control = get.evidence.find((e) => e.probe === 'waf.path-control')!;
    expect(control.bodySnippet).toBe('{"message":"Missing Authentication Token"}');
  });

  it('fails waf-off and lists every payload that got through, with placement and encoding', () => {
    for (const result of runs['waf-off']!) {
      expect(result.status).toBe('fail');
      expect(result.observed.blockRate).toBe(0);
      // The default policy: one critical finding (nothing blocked), not one per category.
      expect(result.summary).toMatch(/no baseline attack blocked: the WAF is off or only detecting/);
      expect(result.findings.map((f) => [f.id.split('#')[1], f.severity])).toEqual([
        ['waf-not-blocking', 'critical'],
        ['grade', 'info'],
      ]);
      const through = result.observed.passedThrough as string[];
      expect(through).toHaveLength(result.observed.attacks as number);
      const baseline = (result.observed.baseline as { passedThrough: string[] }).passedThrough;
      expect(result.evidence.filter((e) => e.outcome === 'violation')).toHaveLength(through.length + baseline.length);
    }
    const post = runs['waf-off']![1]!;
    expect(post.observed.passedThrough).toEqual(
      expect.arrayContaining([
        'sqli: tautology in query (plain)',
        'xss: script tag in json (unicode)',
        'nosqli: where sleep in form (url)',
      ]),
    );
    const jsonEvidence = post.evidence.find((e) => e.label === 'xss: script tag in json (unicode)')!;
    expect(jsonEvidence).toMatchObject({ method: 'POST', status: 200, outcome: 'violation' });
    expect(jsonEvidence.note).toMatch(/^payload got through; body \{"\\u0071":"\\u003c\\u0073/);
  });

  it('sends every probe with the valid credential, redacted in the evidence as written', () => {
    const redactor = new Redactor(Object.values(policy.credentials));
    for (const e of runs['waf-off']![0]!.evidence) {
      expect(e.requestHeaders['x-api-key']).toBe(API_KEY);
      const redacted = JSON.parse(redactor.redact(JSON.stringify(e))) as { requestHeaders: Record<string, string> };
      expect(redacted.requestHeaders['x-api-key']).toBe('<credential main>');
    }
  });

  it('stays within a few hundred requests per route', () => {
    for (const result of [...runs.correct!, ...runs['waf-off']!]) expect(result.requestsSent).toBeLessThan(400);
  });

  it.each(['error-5xx', 'reset'] as const)('gives error, never pass, when the backend is broken (%s)', async (fault) => {
    const gateway = await startGateway({ policy, faults: [fault] });
    try {
      const { result } = await checkWaf(policy, gateway.url);
      expect(result.status).toBe('error');
      expect(result.summary).toMatch(/benign control \("hello world"\) got no normal answer/);
      expect(result.requestsSent).toBeLessThan(10);
    } finally {
      await gateway.close();
    }
  });
});

describe('waf check against a gateway that dies after the control', () => {
  it('stops after 16 unresolved answers in a row and gives error, not a block rate', async () => {
    // The benign control gets 200; every later request has its socket destroyed.
    let answered = 0;
    const server = createServer((req, res) => {
      if (answered++ === 0) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      req.socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const policy = parsePolicy(
      ['version: 1', 'routes:', '  - { method: GET, path: /api/items, waf: { blockStatus: [403], placements: [query, header] } }'].join(
        '\n',
      ),
      'p.yaml',
      { env: {} },
    );
    try {
      const { result } = await checkWaf(policy, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
      expect(result.status).toBe('error');
      expect(result.summary).toMatch(/^no judgeable answer for sqli, xss, traversal/);
      expect(result.observed.blocked).toBe(0);
      expect(result.requestsSent).toBeLessThan(40);
      expect(result.observed.unresolvedProbes).toEqual(
        expect.arrayContaining([expect.stringMatching(/→ not sent: 16 answers in a row were unresolved$/)]),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------------------------

const NGINX_KEY = 'nginx-waf-key-2d4f6b8a0c';
const skipNginx = !nginxAvailable() && !process.env.CI;

/** Every payload in every placement and encoding (base64 included), on a GET and a POST route of the same location. */
function measurementPolicy(): Policy {
  const waf =
    'blockStatus: [403], minBlockRate: 0, maxFalsePositiveRate: 1, exhaustive: true, encodings: [plain, url, double-url, unicode, base64]';
  return parsePolicy(
    [
      'version: 1',
      'vendor: plain',
      'credentials:',
      '  main: { value: "${K}" }',
      'routes:',
      '  - { method: GET, path: /api/items, auth: { required: true, credential: main }, ' +
        `throttle: { rateLimit: 50, burstLimit: 21 }, waf: { ${waf} } }`,
      '  # nginx serves /api/items as a static file: a POST passes the key check, limit_req and CRS (phase 2 reads the',
      "  # body), then the static module answers 405. That 405 is this route's normal answer.",
      '  - { method: POST, path: /api/items, okStatus: [405], auth: { required: true, credential: main }, ' +
        `throttle: { rateLimit: 50, burstLimit: 21 }, waf: { ${waf}, placements: [json, form] } }`,
    ].join('\n'),
    'measure.yaml',
    { env: { K: NGINX_KEY } },
  );
}

function table(rates: Rates): string {
  return Object.entries(rates)
    .map(([k, v]) => `${k} ${v.blocked}/${v.blocked + v.passed}${v.unresolved ? ` (+${v.unresolved} unresolved)` : ''}`)
    .join(', ');
}

describe.skipIf(skipNginx)('waf check against real nginx + ModSecurity + CRS', () => {
  const examplePolicy = parsePolicy(nginxPolicyYaml({ target: 'http://127.0.0.1:1' }), 'nginx-modsecurity.yaml', {
    env: { GATECHECK_API_KEY: NGINX_KEY },
  });
  const results: Partial<Record<NginxVariant, { result: CheckResult; wallMs: number }>> = {};
  let measured: CheckResult[] = [];
  beforeAll(async () => {
    for (const variant of ['correct', 'waf-detection-only', 'waf-off'] as const) {
      const nginx = await startNginx({ variant, apiKey: NGINX_KEY });
      try {
        results[variant] = await checkWaf(examplePolicy, nginx.url);
        if (variant === 'correct') {
          const policy = measurementPolicy();
          measured = [(await checkWaf(policy, nginx.url, 0)).result, (await checkWaf(policy, nginx.url, 1)).result];
        }
      } finally {
        await nginx.stop();
      }
    }
    const [get, post] = measured;
    console.log(
      [
        'CRS 3.3.4 PL1, whole corpus (every payload x placement x encoding, base64 included):',
        `  GET  by category: ${table(byCategory(get!))}`,
        `  GET  by placement: ${table(byPlacement(get!))}`,
        `  POST by category: ${table(byCategory(post!))}`,
        `  POST by placement: ${table(byPlacement(post!))}`,
        `  benign blocked: ${(get!.observed.benignBlocked as string[]).join('; ')} | ` +
          (post!.observed.benignBlocked as string[]).join('; '),
        `  unresolved: ${[...(get!.observed.unresolvedProbes as string[]), ...(post!.observed.unresolvedProbes as string[])].join('; ')}`,
        `  false-positive rate: GET ${get!.observed.falsePositiveRate as number}, POST ${post!.observed.falsePositiveRate as number}`,
        `  example policy wall time (ms): ${Object.entries(results)
          .map(([v, r]) => `${v} ${r.wallMs} (${r.result.requestsSent} requests)`)
          .join(', ')}`,
      ].join('\n'),
    );
  }, 120_000);
  afterAll(() => undefined);

  it('passes the example policy in blocking mode, quickly', () => {
    const { result, wallMs } = results.correct!;
    expect(result.status, result.summary).toBe('pass');
    expect(wallMs).toBeLessThan(5_000);
  });

  it.each(['waf-detection-only', 'waf-off'] as const)('fails %s: nothing blocked, nothing benign blocked', (variant) => {
    const { result } = results[variant]!;
    expect(result.status).toBe('fail');
    expect(result.observed).toMatchObject({ blockRate: 0, falsePositiveRate: 0 });
  });

  it('measures CRS: SQLi, XSS, traversal, XXE and Log4Shell blocked in query, cookie and bodies', () => {
    const [get, post] = measured;
    for (const category of ['sqli', 'xss', 'traversal', 'xxe', 'log4shell']) {
      for (const result of [get!, post!]) {
        const perCell = result.evidence.filter(
          (e) =>
            e.outcome === 'violation' &&
            e.label.startsWith(`${category}:`) &&
            /in (query|cookie|json|form) \((plain|url|double-url|unicode)\)/.test(e.label),
        );
        expect(
          perCell.map((e) => e.label),
          category,
        ).toEqual([]);
      }
    }
  });

  it('measures what CRS PL1 lacks: SSRF to internal hosts goes through, as does base64', () => {
    expect(byCategory(measured[0]!).ssrf!.blockRate!).toBeLessThan(0.2);
    const through = measured[0]!.observed.passedThrough as string[];
    expect(through).toEqual(expect.arrayContaining(['ssrf: localhost admin in query (plain)', 'sqli: union select in query (base64)']));
  });

  it('reads the harness honestly: the path placement gets 404 before CRS looks, and a 400 is unresolved, not a block', () => {
    const get = measured[0]!;
    expect(get.observed.pathPlacementNormalAnswer).toBe(404);
    expect(byPlacement(get).path!.blocked).toBe(0);
    expect(get.observed.unresolvedProbes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^traversal: dot-dot-slash passwd in path \(url\) → 400/)]),
    );
  });

  it('measures one benign sample read as SQL, in every placement', () => {
    for (const result of measured) {
      const blocked = result.observed.benignBlocked as string[];
      expect(blocked.length).toBeGreaterThan(0);
      expect(blocked.every((b) => b.startsWith('benign: markdown note in'))).toBe(true);
    }
  });
});
