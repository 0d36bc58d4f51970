// Each test starts its own gateway, so the slow ones (timers of 150-400 ms) run concurrently.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FAULT_EXPECTATION, FAULT_NAMES, FAULTS, isFaultName, SLOW_FAULT_DELAY_MS } from '../../src/gateway/faults.js';
import { compileRoutes } from '../../src/gateway/routes.js';
import { startGateway } from '../../src/gateway/server.js';
import { API_KEY, APP_ORIGIN, call, count, EVIL_ORIGIN, testPolicy, volley, withGateway } from './helpers.js';

const KEY = { 'x-api-key': API_KEY };
const preflight = (origin: string): RequestInit => ({ method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });

describe('FAULTS', () => {
  it('names seventeen faults, each with a description and an expected verdict', () => {
    expect(FAULT_NAMES).toEqual([
      'no-throttle',
      'fast-throttle',
      'big-burst',
      'plans-ignored',
      'cors-reflect',
      'cors-star',
      'cors-off',
      'no-quota',
      'auth-off',
      'waf-off',
      'ws-auth-off',
      'ws-no-throttle',
      'iam-off',
      'canary-skew',
      'no-trace',
      'slow',
      'error-5xx',
      'reset',
      'hang',
    ]);
    for (const name of FAULT_NAMES) {
      expect(FAULTS[name].length).toBeGreaterThan(10);
      expect(FAULT_EXPECTATION[name]).toBeDefined();
    }
    expect(isFaultName('slow')).toBe(true);
    expect(isFaultName('toString')).toBe(false);
  });

  it('changes the effective throttle as documented', () => {
    const limits = (faults: Parameters<typeof compileRoutes>[1]) =>
      compileRoutes(testPolicy(), faults).paths.get('/api/items')!.methods.get('GET')!.throttle;
    expect(limits(new Set())).toEqual({ ratePerSec: 1, burstLimit: 3 });
    expect(limits(new Set(['fast-throttle']))).toEqual({ ratePerSec: 2, burstLimit: 3 });
    expect(limits(new Set(['big-burst']))).toEqual({ ratePerSec: 1, burstLimit: 9 });
    expect(limits(new Set(['no-throttle']))).toBeUndefined();
  });
});

describe.concurrent('throttle faults', () => {
  it('no-throttle: nothing is ever refused with 429', () =>
    withGateway(['no-throttle'], async (gateway) => {
      const { statuses } = await volley(gateway, '/api/items', 12, { headers: KEY });
      expect(count(statuses, 200)).toBe(12);
    }));

  it('fast-throttle: tokens come back at twice the rate', () =>
    withGateway(['fast-throttle'], async (gateway) => {
      // /limited: rateLimit 2/s, burstLimit 1. At 4/s a token is back after 250 ms (at 2/s: 500 ms).
      expect((await call(gateway, '/limited')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await call(gateway, '/limited')).status).toBe(200);
    }));

  it('big-burst: the bucket holds three times the burst', () =>
    withGateway(['big-burst'], async (gateway) => {
      const { statuses, elapsedMs } = await volley(gateway, '/api/items', 12, { headers: KEY });
      const ok = count(statuses, 200);
      expect(ok).toBeGreaterThanOrEqual(9);
      expect(ok).toBeLessThanOrEqual(9 + Math.floor(elapsedMs / 1000));
    }));
});

describe.concurrent('CORS faults', () => {
  it('cors-reflect: any origin, null included, is reflected with Vary: Origin', () =>
    withGateway(['cors-reflect'], async (gateway) => {
      for (const origin of [EVIL_ORIGIN, 'null']) {
        const pre = await call(gateway, '/api/items', preflight(origin));
        expect(pre.status).toBe(204);
        expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
        expect(pre.headers.get('vary')).toBe('Origin');
        const actual = await call(gateway, '/api/items', { headers: { ...KEY, origin } });
        expect(actual.headers.get('access-control-allow-origin')).toBe(origin);
        expect(actual.headers.get('vary')).toBe('Origin');
      }
    }));

  it('cors-star: `*` for everyone', () =>
    withGateway(['cors-star'], async (gateway) => {
      expect((await call(gateway, '/api/items', preflight(EVIL_ORIGIN))).headers.get('access-control-allow-origin')).toBe('*');
      expect(
        (await call(gateway, '/api/items', { headers: { ...KEY, origin: EVIL_ORIGIN } })).headers.get('access-control-allow-origin'),
      ).toBe('*');
    }));

  it('cors-off: no CORS headers, and preflights answer 403', () =>
    withGateway(['cors-off'], async (gateway) => {
      const pre = await call(gateway, '/api/items', preflight(APP_ORIGIN));
      expect(pre.status).toBe(403);
      expect(pre.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      const actual = await call(gateway, '/api/items', { headers: { ...KEY, origin: APP_ORIGIN } });
      expect(actual.status).toBe(200);
      expect([...actual.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }));
});

describe('auth and WAF faults', () => {
  it('auth-off: a missing or wrong key gets through, throttling still applies to the key', () =>
    withGateway(['auth-off'], async (gateway) => {
      expect((await call(gateway, '/api/items')).status).toBe(200);
      expect((await call(gateway, '/api/items', { headers: { 'x-api-key': 'wrong' } })).status).toBe(200);
      const { statuses } = await volley(gateway, '/api/items', 5, { headers: KEY });
      expect(count(statuses, 200)).toBeGreaterThanOrEqual(3);
      expect(count(statuses, 429)).toBeGreaterThanOrEqual(1);
    }));

  it('waf-off: attacks reach the backend', () =>
    withGateway(['waf-off'], async (gateway) => {
      expect((await call(gateway, '/health?id=1%20UNION%20SELECT%20password')).status).toBe(200);
      expect((await call(gateway, '/api/items', { method: 'POST', headers: KEY, body: '<script>alert(1)</script>' })).status).toBe(201);
    }));
});

describe.concurrent('backend faults', () => {
  it(`slow: backend answers take at least ${SLOW_FAULT_DELAY_MS} ms`, () =>
    withGateway(['slow'], async (gateway) => {
      const started = performance.now();
      const answer = await call(gateway, '/health');
      expect(answer.status).toBe(200);
      // Timers may fire a few ms early against a clock read elsewhere; only a lower bound is safe.
      expect(performance.now() - started).toBeGreaterThanOrEqual(SLOW_FAULT_DELAY_MS - 20);
      expect((await call(gateway, '/api/items')).status).toBe(403);
    }));

  it('error-5xx: 502 Internal server error behind working gateway refusals', () =>
    withGateway(['error-5xx'], async (gateway) => {
      const answer = await call(gateway, '/api/items', { headers: KEY });
      expect(answer.status).toBe(502);
      expect(answer.body).toBe('{"message":"Internal server error"}');
      expect((await call(gateway, '/api/items')).status).toBe(403);
      expect((await call(gateway, '/nope')).status).toBe(403);
    }));

  it('reset: the socket is destroyed without an answer', () =>
    withGateway(['reset'], async (gateway) => {
      await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
      expect((await call(gateway, '/api/items')).status).toBe(403);
    }));

  it('hang: no answer ever comes, and close() still returns promptly', async () => {
    const gateway = await startGateway({ policy: testPolicy(), faults: ['hang'] });
    await expect(fetch(`${gateway.url}/health`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    // A request still open on its socket when close() is called.
    const pending = new Promise<string>((resolve) => {
      const req = request(`${gateway.url}/health`, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await gateway.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('ECONNRESET');
  });

  it('faults combine: slow + error-5xx is a late 502', () =>
    withGateway(['slow', 'error-5xx'], async (gateway) => {
      const started = performance.now();
      expect((await call(gateway, '/health')).status).toBe(502);
      expect(performance.now() - started).toBeGreaterThanOrEqual(SLOW_FAULT_DELAY_MS - 20);
    }));

  it('close() does not wait for a pending slow answer', async () => {
    const gateway = await startGateway({ policy: testPolicy(), faults: ['slow'] });
    const pending = fetch(`${gateway.url}/health`).then(
      (response) => response.status,
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await gateway.close();
    expect(performance.now() - started).toBeLessThan(SLOW_FAULT_DELAY_MS);
    expect(await pending).toBe('failed');
  });
});
