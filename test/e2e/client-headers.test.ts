/**
 * Every request gatecheck sends looks like a client: `User-Agent: gatecheck/<version>` (AWS's
 * managed core rule set blocks requests without one) and the policy's `headers`, top level merged
 * under the route's own. A loopback server echoes what it received into the body, which every
 * observation keeps, so the test reads the headers each probe of each check really carried.
 * Only a WAF probe that places its payload in the User-Agent replaces gatecheck's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/run-bench.js';
import { GATECHECK_VERSION, USER_AGENT } from '../../src/engine/client-headers.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import { runPolicy } from '../../src/run/run-policy.js';
import { policyRedactor } from '../../src/util/redact.js';
import { startScriptedServer, type ScriptedServer } from '../support/scripted-server.js';

const KEY = 'headers-e2e-key-7d1c';
const TENANT = 'tenant-from-env-93ab';

/** What the server saw, as it writes it into every answer's body. */
interface Seen {
  ua?: string;
  tenant?: string;
  team?: string;
}

let server: ScriptedServer;
const benchSeen: Seen[] = [];

beforeAll(async () => {
  server = await startScriptedServer((req, res) => {
    // The User-Agent cut to 200 characters: an observation keeps the first 512 bytes of a body.
    const seen: Seen = {
      ua: req.headers['user-agent']?.slice(0, 200),
      tenant: req.headers['x-tenant'] as string,
      team: req.headers['x-team'] as string,
    };
    if (req.url?.startsWith('/bench')) benchSeen.push(seen);
    const keyed = req.headers['x-api-key'] === KEY;
    res.writeHead(req.url?.startsWith('/api/items') && !keyed && req.method !== 'OPTIONS' ? 403 : 200, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify(seen));
  });
});
afterAll(async () => {
  await server?.close();
});

function policyYaml(target: string): string {
  return `
version: 1
target: ${target}
limits: { maxRequests: 3000, maxDurationSec: 60, requestTimeoutMs: 2000 }
headers: { X-Tenant: "\${TENANT}", X-Team: global-team }
credentials:
  main: { header: x-api-key, value: "\${KEY}" }
  gold: { header: x-api-key, value: "\${KEY}" }
routes:
  - method: GET
    path: /api/items
    headers: { X-Team: items-team }
    auth: { required: true, credential: main }
    cors: { allowOrigins: [https://app.example.com] }
    waf: { blockStatus: [403], categories: [sqli], placements: [query, header], encodings: [plain] }
    throttle: { rateLimit: 20, burstLimit: 4, probeSeconds: 1 }
    slo: { p99Ms: 1000, ratePerSec: 10, durationSec: 1 }
  - method: GET
    path: /api/reports
    usagePlans: [{ name: gold, credential: gold, rateLimit: 10, burstLimit: 3, probeSeconds: 1 }]
    quota: { limit: 3, period: DAY, credential: main }
`;
}

describe('every probe carries the User-Agent and the policy headers', () => {
  it('reachability, auth, cors, waf, throttle, usage plan, slo and quota probes', async () => {
    const policy = parsePolicy(policyYaml(server.url), 'headers.yaml', { env: { TENANT, KEY } });
    const observations: Observation[] = [];
    const recorder = { start: () => undefined, observation: (o: Observation) => observations.push(o), check: () => undefined };
    const report = await runPolicy({
      policy: policy as typeof policy & { target: string },
      policyFile: 'headers.yaml',
      redactor: policyRedactor(policy),
      progress: () => undefined,
      version: GATECHECK_VERSION,
      recorder,
    });
    const kinds = new Set(report.checks.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['auth', 'cors', 'quota', 'slo', 'throttle', 'waf']);
    const byCheck = new Map<string, number>();
    let uaPayloads = 0;
    for (const o of observations) {
      const where = `${o.check ?? 'reachability'} ${o.probe} ${o.method} ${o.path}`;
      expect(o.bodySnippet, where).toBeDefined();
      const seen = JSON.parse(o.bodySnippet!) as Seen;
      expect(seen.tenant, where).toBe(TENANT);
      // The route's own X-Team over the top-level one.
      expect(seen.team, where).toBe((o.check ?? o.path).includes('/api/items') ? 'items-team' : 'global-team');
      if (o.requestHeaders?.['user-agent'] !== undefined) {
        // A WAF probe with its payload in the User-Agent: that placement wins, payload intact.
        expect(o.check, where).toMatch(/^waf:/);
        expect(seen.ua, where).toBe(o.requestHeaders['user-agent'].slice(0, 200));
        expect(seen.ua, where).not.toContain('gatecheck/');
        uaPayloads++;
      } else {
        expect(seen.ua, where).toBe(USER_AGENT);
      }
      const key = (o.check ?? 'reachability').split(':')[0]!;
      byCheck.set(key, (byCheck.get(key) ?? 0) + 1);
    }
    expect(uaPayloads).toBeGreaterThan(0);
    // Every kind sent something (reachability controls have no check tag).
    for (const kind of ['reachability', 'auth', 'cors', 'waf', 'throttle', 'slo', 'quota'])
      expect(byCheck.get(kind), kind).toBeGreaterThan(0);
    // The usage plan's probes ran with their key too.
    expect(observations.some((o) => o.check?.startsWith('throttle:') && o.check.includes('gold'))).toBe(true);
    // The value from the environment is a secret: the redactor replaces it.
    expect(policyRedactor(policy).redact(`x-tenant: ${TENANT}`)).toBe('x-tenant: <header x-tenant>');
  }, 60_000);

  it.each([
    [
      'ladder',
      {
        kind: 'ladder' as const,
        phases: [
          { kind: 'rate' as const, name: 's', fromRatePerSec: 20, toRatePerSec: 20, durationSec: 0.5, arrivals: 'constant' as const },
        ],
      },
    ],
    ['raw saturator', { kind: 'saturate' as const, engine: 'raw' as const, connections: 2, workers: 1, pipelining: 1, durationSec: 0.5 }],
    ['autocannon', { kind: 'saturate' as const, engine: 'autocannon' as const, connections: 2, workers: 0, pipelining: 1, durationSec: 1 }],
  ])(
    'bench (%s) sends the User-Agent and the headers it is given',
    async (_name, mode) => {
      benchSeen.length = 0;
      const report = await runBench({
        target: server.url,
        path: '/bench',
        method: 'GET',
        headers: { 'X-Tenant': TENANT },
        mode,
        maxRequests: 40,
        maxDurationSec: 10,
        requestTimeoutMs: 2_000,
        progress: () => undefined,
        version: GATECHECK_VERSION,
      });
      expect(report.method).toBe('GET');
      expect(benchSeen.length).toBeGreaterThan(0);
      for (const seen of benchSeen) expect(seen).toEqual({ ua: USER_AGENT, tenant: TENANT });
    },
    30_000,
  );

  it('a User-Agent given to bench (from the policy or --header) replaces gatecheck’s', async () => {
    benchSeen.length = 0;
    const mode = { kind: 'saturate' as const, engine: 'raw' as const, connections: 1, workers: 1, pipelining: 1, durationSec: 0.3 };
    const options = {
      target: server.url,
      path: '/bench',
      method: 'GET',
      mode,
      maxRequests: 5,
      maxDurationSec: 10,
      requestTimeoutMs: 2_000,
    };
    await runBench({ ...options, headers: { 'User-Agent': 'my-client/2' }, progress: () => undefined, version: GATECHECK_VERSION });
    expect(benchSeen.length).toBeGreaterThan(0);
    for (const seen of benchSeen) expect(seen.ua).toBe('my-client/2');
  }, 30_000);
});
