/**
 * Smoke test of the nginx + ModSecurity + CRS harness (test/support/nginx.ts): the `correct`
 * variant keeps every promise of policies/examples/nginx-modsecurity.yaml, and each broken variant
 * breaks the one it is named after.
 *
 * Skipped only on a machine without nginx/ModSecurity/CRS and without CI set: under CI a missing
 * install fails the suite instead of skipping it (.ci/run installs the packages).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/load.js';
import {
  NGINX_ALLOWED_ORIGIN,
  NGINX_VARIANTS,
  nginxAvailable,
  nginxPolicyYaml,
  startNginx,
  type NginxVariant,
  type RunningNginx,
} from '../support/nginx.js';

const API_KEY = 'gc-test-Key_0123456789';
const RUN = nginxAvailable() || Boolean(process.env.CI);
/** Process start-up is ~0.3 s (CRS parsing); startNginx itself gives up after 10 s. */
const TIMEOUT_MS = 30_000;
const XSS = `?q=${encodeURIComponent('<script>alert(1)</script>')}`;
const withKey = { 'x-api-key': API_KEY };

describe.skipIf(!RUN)('nginx + ModSecurity + CRS harness', { timeout: TIMEOUT_MS }, () => {
  it('finds nginx, the ModSecurity module and CRS installed', () => {
    expect(nginxAvailable(), 'install nginx-light libnginx-mod-http-modsecurity modsecurity-crs (see .ci/run)').toBe(true);
  });

  describe('correct variant', () => {
    let nginx: RunningNginx;
    beforeAll(async () => {
      nginx = await startNginx({ variant: 'correct', apiKey: API_KEY });
    }, TIMEOUT_MS);
    afterAll(async () => {
      await nginx?.stop();
    });

    it('listens on loopback', () => {
      expect(nginx.url).toBe(`http://127.0.0.1:${nginx.port}`);
      expect(nginx.variant).toBe('correct');
    });

    it('answers 200 with the key and 403 without it or with a wrong one', async () => {
      const ok = await fetch(`${nginx.url}/api/items`, { headers: withKey });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/json');
      expect(await ok.json()).toEqual({ ok: true });

      const missing = await fetch(`${nginx.url}/api/items`);
      expect(missing.status).toBe(403);
      expect(await missing.json()).toEqual({ message: 'Forbidden' });

      // nginx compares map strings case-insensitively; the key check must not.
      const wrongCase = await fetch(`${nginx.url}/api/items`, { headers: { 'x-api-key': API_KEY.toUpperCase() } });
      expect(wrongCase.status).toBe(403);
      await wrongCase.text();
    });

    it('serves /health without a key', async () => {
      const health = await fetch(`${nginx.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
    });

    it('blocks a script payload in the query string with 403 (CRS)', async () => {
      const res = await fetch(`${nginx.url}/api/items${XSS}`, { headers: withKey });
      expect(res.status).toBe(403);
      await res.text();
      expect(nginx.errorLog()).toMatch(/ModSecurity: Access denied with code 403/);
    });

    it('answers a preflight from the allowed origin with 204 and the CORS headers, without the key', async () => {
      const res = await fetch(`${nginx.url}/api/items`, {
        method: 'OPTIONS',
        headers: { origin: NGINX_ALLOWED_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-api-key' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(NGINX_ALLOWED_ORIGIN);
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('content-type, x-api-key');
      expect(res.headers.get('access-control-max-age')).toBe('600');
      expect(res.headers.get('vary')).toBe('Origin');
    });

    it('gives the allowed origin ACAO on 200 and 403, and no other origin any', async () => {
      for (const headers of [withKey, {}]) {
        const res = await fetch(`${nginx.url}/api/items`, { headers: { ...headers, origin: NGINX_ALLOWED_ORIGIN } });
        expect(res.headers.get('access-control-allow-origin')).toBe(NGINX_ALLOWED_ORIGIN);
        expect(res.headers.get('vary')).toBe('Origin');
        await res.text();
      }
      const probes = [
        'https://evil.example',
        'https://evilapp.example.com',
        'https://app.example.com.evil.tld',
        'https://appxexample.com',
        'http://app.example.com',
        'null',
      ];
      for (const origin of probes) {
        const res = await fetch(`${nginx.url}/api/items`, { headers: { ...withKey, origin } });
        expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
        await res.text();
      }
    });

    it('admits exactly 21 of 25 requests sent at once from idle (burst=20 nodelay), the rest 429 with CORS', async () => {
      await refill();
      const responses = await pipelinedResponses(nginx.port, 25, { origin: NGINX_ALLOWED_ORIGIN });
      expect(tally(responses.map((response) => response.status))).toEqual({ 200: 21, 429: 4 });
      for (const response of responses) {
        expect(response.headers['content-type']).toBe('application/json');
        expect(response.headers['access-control-allow-origin']).toBe(NGINX_ALLOWED_ORIGIN);
        expect(JSON.parse(response.body)).toEqual(response.status === 200 ? { ok: true } : { message: 'Too Many Requests' });
      }
    });

    it('admits 21 plus what refilled while 25 concurrent fetches were in flight', async () => {
      // fetch spreads a "simultaneous" burst over tens of ms (new connections, ~0.75 ms of CRS per
      // request in one worker), and the bucket refills one token per 20 ms meanwhile.
      await refill();
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: 25 }, async () => {
          const res = await fetch(`${nginx.url}/api/items`, { headers: withKey });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      const elapsedMs = performance.now() - started;
      const counts = tally(statuses);
      expect((counts[200] ?? 0) + (counts[429] ?? 0)).toBe(25);
      expect(counts[200]).toBeGreaterThanOrEqual(21);
      expect(counts[200]).toBeLessThanOrEqual(21 + Math.ceil((elapsedMs * 50) / 1000));
    });

    it('refills at 50 r/s after the burst', async () => {
      await refill();
      const measured = await refillAfterBurst(nginx.port, 150);
      const [low, high] = admittedRange(measured, 50);
      expect(measured.admitted).toBeGreaterThanOrEqual(low);
      expect(measured.admitted).toBeLessThanOrEqual(high);
      expect(measured.admitted).toBeLessThan(admittedRange(measured, 100)[0]);
    });
  });

  describe('broken variants', () => {
    const started: RunningNginx[] = [];
    afterAll(async () => {
      await Promise.all(started.map((nginx) => nginx.stop()));
    });
    async function start(variant: NginxVariant): Promise<RunningNginx> {
      const nginx = await startNginx({ variant, apiKey: API_KEY });
      started.push(nginx);
      return nginx;
    }

    it('exports every variant once', () => {
      expect(new Set(NGINX_VARIANTS).size).toBe(NGINX_VARIANTS.length);
      expect(NGINX_VARIANTS[0]).toBe('correct');
      expect(NGINX_VARIANTS).toHaveLength(11);
    });

    it('waf-detection-only lets the script payload through', async () => {
      const nginx = await start('waf-detection-only');
      const res = await fetch(`${nginx.url}/api/items${XSS}`, { headers: withKey });
      expect(res.status).toBe(200);
      await res.text();
      expect(nginx.errorLog()).toMatch(/941100/); // detected, not blocked
    });

    it('waf-off lets the script payload through', async () => {
      const nginx = await start('waf-off');
      const res = await fetch(`${nginx.url}/api/items${XSS}`, { headers: withKey });
      expect(res.status).toBe(200);
      await res.text();
    });

    it('cors-reflect reflects any origin', async () => {
      const nginx = await start('cors-reflect');
      const res = await fetch(`${nginx.url}/api/items`, { headers: { ...withKey, origin: 'https://evil.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.example');
      await res.text();
    });

    it('cors-star answers *', async () => {
      const nginx = await start('cors-star');
      const res = await fetch(`${nginx.url}/api/items`, { headers: { ...withKey, origin: 'https://evil.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      await res.text();
    });

    it('cors-suffix lets a look-alike subdomain through, but not a prefix match', async () => {
      const nginx = await start('cors-suffix');
      const acao = async (origin: string): Promise<string | null> => {
        const res = await fetch(`${nginx.url}/api/items`, { headers: { ...withKey, origin } });
        await res.text();
        return res.headers.get('access-control-allow-origin');
      };
      expect(await acao(NGINX_ALLOWED_ORIGIN)).toBe(NGINX_ALLOWED_ORIGIN);
      expect(await acao('https://evilapp.example.com')).toBe('https://evilapp.example.com');
      expect(await acao('https://evil-app.example.com')).toBe('https://evil-app.example.com');
      expect(await acao('https://app.example.com.evil.tld')).toBeNull();
    });

    it('cors-no-error-headers answers the allowed origin with CORS headers, except on its 403', async () => {
      const nginx = await start('cors-no-error-headers');
      const fromApp = (headers: Record<string, string>) =>
        fetch(`${nginx.url}/api/items`, { headers: { ...headers, origin: NGINX_ALLOWED_ORIGIN } });
      const ok = await fromApp(withKey);
      expect(ok.headers.get('access-control-allow-origin')).toBe(NGINX_ALLOWED_ORIGIN);
      await ok.text();
      const refused = await fromApp({});
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('vary')).toBeNull();
      await refused.text();
    });

    it('auth-off answers 200 without a key', async () => {
      const nginx = await start('auth-off');
      const res = await fetch(`${nginx.url}/api/items`);
      expect(res.status).toBe(200);
      await res.text();
    });

    it('no-limit admits all 25 of a burst', async () => {
      const nginx = await start('no-limit');
      expect(tally(await pipelined(nginx.port, 25))).toEqual({ 200: 25 });
    });

    it('big-burst admits 61 at once from idle', async () => {
      const nginx = await start('big-burst');
      expect(tally(await pipelined(nginx.port, 65))).toEqual({ 200: 61, 429: 4 });
    });

    it('wrong-rate refills at 100 r/s', async () => {
      const nginx = await start('wrong-rate');
      const measured = await refillAfterBurst(nginx.port, 150);
      const [low, high] = admittedRange(measured, 100);
      expect(measured.admitted).toBeGreaterThanOrEqual(low);
      expect(measured.admitted).toBeLessThanOrEqual(high);
      expect(measured.admitted).toBeGreaterThan(admittedRange(measured, 50)[1]);
    });
  });

  describe('policy', () => {
    it('policies/examples/nginx-modsecurity.yaml is nginxPolicyYaml()', () => {
      const file = fileURLToPath(new URL('../../policies/examples/nginx-modsecurity.yaml', import.meta.url));
      expect(readFileSync(file, 'utf8')).toBe(nginxPolicyYaml());
    });

    it('loads with the project loader and promises what the correct variant does', () => {
      const policy = parsePolicy(nginxPolicyYaml({ target: 'http://127.0.0.1:8080' }), 'nginx-modsecurity.yaml', {
        env: { GATECHECK_API_KEY: API_KEY },
      });
      expect(policy.target).toBe('http://127.0.0.1:8080');
      expect(policy.credentials.main).toMatchObject({ header: 'x-api-key', value: API_KEY });
      const items = policy.routes.find((route) => route.path === '/api/items');
      expect(items?.throttle).toMatchObject({ rateLimit: 50, burstLimit: 20 });
      expect(items?.auth).toMatchObject({ required: true, credential: 'main' });
      expect(items?.cors).toMatchObject({ allowOrigins: [NGINX_ALLOWED_ORIGIN], maxAge: 600 });
      expect(items?.waf?.blockStatus).toEqual([403]);
      const health = policy.routes.find((route) => route.path === '/health');
      expect(health?.slo).toBeDefined();
      expect(health?.auth).toBeUndefined();
      expect(health?.throttle).toBeUndefined();
    });
  });
});

// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `count` GET /api/items with the key pipelined on one connection, in one write, and
 * returns the responses in order. nginx handles pipelined requests without going back to its
 * event loop, so they all see the same clock: the number admitted is exactly the bucket's content.
 * (Concurrent fetches arrive over tens of ms, during which the bucket refills.)
 */
async function pipelinedResponses(port: number, count: number, extraHeaders: Record<string, string> = {}): Promise<RawResponse[]> {
  const headers = { host: `127.0.0.1:${port}`, 'user-agent': 'gatecheck-test', accept: '*/*', 'x-api-key': API_KEY, ...extraHeaders };
  const request = `GET /api/items HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  try {
    return await new Promise<RawResponse[]>((resolve, reject) => {
      let received = '';
      const timer = setTimeout(() => reject(new Error(`only ${parseResponses(received).length} of ${count} responses`)), 10_000);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        received += chunk;
        const responses = parseResponses(received);
        if (responses.length >= count) {
          clearTimeout(timer);
          resolve(responses);
        }
      });
      socket.once('error', reject);
      socket.write(request.repeat(count));
    });
  } finally {
    socket.destroy();
  }
}

async function pipelined(port: number, count: number): Promise<number[]> {
  return (await pipelinedResponses(port, count)).map((response) => response.status);
}

/** The complete HTTP/1.1 responses at the start of `text` (all of nginx's carry a length or none). */
function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return responses;
    const [statusLine = '', ...headerLines] = text.slice(at, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (text.length < bodyStart + length) return responses;
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(bodyStart, bodyStart + length) });
    at = bodyStart + length;
  }
}

interface Refill {
  admitted: number;
  /** Time between the bursts on nginx's clock (X-Nginx-Msec): the second burst's first and last response. */
  minElapsedMs: number;
  maxElapsedMs: number;
}

/**
 * Drains the bucket with a pipelined burst, waits `waitMs`, and counts what a second burst gets.
 * After the first burst nginx's excess is 20000 (in 1/1000 requests), so the second admits
 * min(21, floor(rate × elapsed)), elapsed read off nginx's own clock. Once elapsed passes 420 ms
 * the bucket is full again whatever the rate, so on a starved machine the measurement is repeated
 * (up to 5 times) until it tells 50 r/s from 100 r/s.
 */
async function refillAfterBurst(port: number, waitMs: number): Promise<Refill> {
  let last: Refill | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await refill();
    const first = await pipelinedResponses(port, 25);
    // burst=20 admits 21 from idle, plus what refills while the volley is served: on a busy machine nginx may take
    // tens of ms over 25 pipelined requests (at most 100 r/s here: one more per 10 ms of its own clock). At least
    // one refusal says the bucket was drained.
    const statuses = tally(first.map((response) => response.status));
    const servedMs = nginxMsec(first.at(-1)) - nginxMsec(first[0]);
    expect(Object.keys(statuses).sort()).toEqual(['200', '429']);
    expect(statuses[200]).toBeGreaterThanOrEqual(21);
    expect(statuses[200]).toBeLessThanOrEqual(21 + Math.floor((100 * servedMs) / 1000) + 1);
    const drainedAt = nginxMsec(first.filter((response) => response.status === 200).at(-1));
    await sleep(waitMs);
    const second = await pipelinedResponses(port, 25);
    last = {
      admitted: second.filter((response) => response.status === 200).length,
      minElapsedMs: nginxMsec(second[0]) - drainedAt,
      maxElapsedMs: nginxMsec(second.at(-1)) - drainedAt,
    };
    if (admittedRange(last, 50)[1] < admittedRange(last, 100)[0]) break;
  }
  return last as Refill;
}

/**
 * The range of admitted requests a refill at `ratePerSec` allows for this measurement. The upper end
 * allows one more: the first volley's 429s only show that less than one request's worth of room was
 * left when it drained, not none, and that fraction is admitted with the refill (nginx keeps the
 * excess in thousandths of a request).
 */
function admittedRange(measured: Refill, ratePerSec: number): [number, number] {
  const admitted = (elapsedMs: number, leftover: number): number => Math.min(21, Math.floor((ratePerSec * elapsedMs) / 1000) + leftover);
  return [admitted(measured.minElapsedMs, 0), admitted(measured.maxElapsedMs, 1)];
}

function nginxMsec(response: RawResponse | undefined): number {
  const value = response?.headers['x-nginx-msec'];
  if (value === undefined) throw new Error('response without X-Nginx-Msec');
  return Math.round(Number(value) * 1000);
}

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** Long enough for a drained 21-token bucket to refill at 50 r/s (0.42 s). */
function refill(): Promise<void> {
  return sleep(600);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
