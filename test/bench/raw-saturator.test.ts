/**
 * The raw saturator against real servers on loopback: a node server (status counting, pipelining
 * order) and nginx (keepalive_requests, HEAD, `Connection: close`, the request cap across worker
 * threads through the built CLI). Each run loads for at most 1.5 s or a few thousand requests.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginxTarget, type NginxTarget } from '../../bench/nginx-target.js';
import { runRawSaturate, type RawSaturateOptions, type RawSaturateResult } from '../../src/bench/raw-saturator.js';
import type { BenchReport } from '../../src/bench/report.js';
import { runCli } from '../support/cli.js';

/**
 * The load stops on a timer that is re-armed until the deadline has passed, so a run never lasts
 * less than asked; it may last longer by the time the timer waits for a busy event loop's turn.
 */
const TIMER_LATE_SEC = 0.1;

const DEFAULTS = { method: 'GET', headers: {}, connections: 4, durationSec: 1, threads: 1, pipelining: 1, maxRequests: 1_000_000 };
const saturate = (options: Partial<RawSaturateOptions> & { url: string }) => runRawSaturate({ ...DEFAULTS, ...options });

function expectWholeDuration(result: RawSaturateResult, askedSec: number): void {
  expect(result.stoppedBy).toBe('duration');
  expect(result.durationSec).toBeGreaterThanOrEqual(askedSec);
  expect(result.durationSec).toBeLessThan(askedSec + TIMER_LATE_SEC);
}

describe('raw saturation against a loopback node server', () => {
  it('counts every answer by status and stops at the request cap', async () => {
    let served = 0;
    const server = createHttpServer((_req, res) => {
      served++;
      res.statusCode = served % 2 ? 200 : 429;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const result = await saturate({ url, durationSec: 5, maxRequests: 400 });
    server.close();
    expect(result.total).toBe(400);
    expect(served).toBe(400);
    expect(result.statusCounts).toEqual({ 200: 200, 429: 200 });
    expect(result.stoppedBy).toBe('max-requests');
  });

  it('keeps `pipelining` requests in flight and matches the answers in order', async () => {
    // This server answers only once 4 requests have arrived: one request at a time would never get an answer.
    const server = createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        const heads = pending.split('\r\n\r\n');
        if (heads.length < 5) return;
        pending = heads.slice(4).join('\r\n\r\n');
        socket.write([200, 201, 202, 203].map((s) => `HTTP/1.1 ${s} X\r\nContent-Length: 1\r\n\r\n${s % 10}`).join(''));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const result = await saturate({ url, connections: 2, durationSec: 2, pipelining: 4, maxRequests: 80 });
    server.close();
    expect(result.statusCounts).toEqual({ 200: 20, 201: 20, 202: 20, 203: 20 });
    expect(result.stoppedBy).toBe('max-requests');
  });
});

interface Sample {
  /** Connections open at nginx, the sampler's own excluded. */
  active: number;
  /** Requests nginx has read so far. */
  requests: number;
}

/** nginx's stub_status, read on a connection of its own that closes after the answer. */
function nginxStatus(base: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/status`, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const match = /Active connections: (\d+)[\s\S]*?\n\s*\d+ \d+ (\d+)/.exec(body);
        if (!match) return reject(new Error(`unexpected stub_status: ${body}`));
        resolve({ active: Number(match[1]) - 1, requests: Number(match[2]) });
      });
    });
    req.on('error', reject).end();
  });
}

/** Samples nginx every 50 ms while `load` runs; returns its result and the samples taken. */
async function watched<T>(base: string, load: Promise<T>): Promise<{ result: T; samples: Sample[]; after: Sample }> {
  const samples: Sample[] = [];
  let done = false;
  const sampling = (async () => {
    while (!done) {
      samples.push(await nginxStatus(base));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const result = await load.finally(() => (done = true));
  await sampling;
  return { result, samples, after: await nginxStatus(base) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The load never decays: nginx saw the asked number of connections through the run (the median of
 * the samples of each half), and served a fair share of the requests in the second half.
 */
function expectSteadyLoad(samples: Sample[], after: Sample, connections: number): void {
  const during = samples.slice(1, -1);
  expect(during.length).toBeGreaterThanOrEqual(6);
  const half = Math.floor(during.length / 2);
  expect(median(during.slice(0, half).map((s) => s.active))).toBe(connections);
  expect(median(during.slice(half).map((s) => s.active))).toBe(connections);
  const first = samples[0]!.requests;
  const middle = during[half]!.requests;
  expect((after.requests - middle) / (after.requests - first)).toBeGreaterThan(0.25);
}

const RUN_NGINX = existsSync('/usr/sbin/nginx') || Boolean(process.env.CI);

describe.skipIf(!RUN_NGINX)('raw saturation against nginx', { timeout: 30_000 }, () => {
  let nginx: NginxTarget;
  beforeAll(async () => {
    // keepalive_requests as nginx ships it (1000), but 100 on /k100 and none at all on /close.
    nginx = await startNginxTarget({
      keepaliveRequests: 'nginx-default',
      serverExtra: `
        location = /status { stub_status; }
        location /k100 { keepalive_requests 100; default_type application/json; return 200 '{"ok":true}'; }
        location /close { keepalive_timeout 0; default_type application/json; return 200 '{"ok":true}'; }`,
    });
  });
  afterAll(async () => {
    await nginx?.stop();
  });

  it("lasts the whole duration at the asked concurrency past nginx's default keepalive_requests (1000)", async () => {
    const { result, samples, after } = await watched(nginx.url, saturate({ url: `${nginx.url}/`, connections: 4, durationSec: 1.5 }));
    expectWholeDuration(result, 1.5);
    // Meaningful only when each connection outlived nginx's 1000 requests several times.
    expect(result.total).toBeGreaterThan(3 * 4 * 1000);
    expect(result.reconnects).toBeGreaterThanOrEqual(Math.ceil(result.total / 1000) - 4);
    expect(result).toMatchObject({ errors: 0, unanswered: 0, statusCounts: { 200: result.total } });
    expectSteadyLoad(samples, after, 4);
  });

  it('reconnects every 100 answers under keepalive_requests 100 and keeps the concurrency', async () => {
    const { result, samples, after } = await watched(nginx.url, saturate({ url: `${nginx.url}/k100`, connections: 4, durationSec: 1 }));
    expectWholeDuration(result, 1);
    expect(result.total).toBeGreaterThan(4 * 100 * 3);
    expect(result.reconnects).toBeGreaterThanOrEqual(Math.ceil(result.total / 100) - 4);
    expect(result).toMatchObject({ errors: 0, unanswered: 0 });
    expectSteadyLoad(samples, after, 4);
  });

  it('loads with HEAD: an answer with Content-Length and no body does not stall the connection', async () => {
    const result = await saturate({ url: `${nginx.url}/`, method: 'HEAD', connections: 2, durationSec: 1 });
    expectWholeDuration(result, 1);
    expect(result.total).toBeGreaterThan(1000);
    expect(result).toMatchObject({ errors: 0, statusCounts: { 200: result.total } });
  });

  it('keeps loading a server that answers `Connection: close` every time', async () => {
    const result = await saturate({ url: `${nginx.url}/close`, connections: 4, durationSec: 1 });
    expectWholeDuration(result, 1);
    expect(result.total).toBeGreaterThan(200);
    // Every answer closes its connection, and every closed connection is replaced.
    expect(result.reconnects).toBeGreaterThanOrEqual(result.total - 4);
    expect(result).toMatchObject({ errors: 0, unanswered: 0, statusCounts: { 200: result.total } });
  });

  it('pipelines under keepalive_requests 100: requests nginx will not read are sent again, none beyond the cap', async () => {
    const before = await nginxStatus(nginx.url);
    const result = await saturate({ url: `${nginx.url}/k100`, connections: 4, durationSec: 5, pipelining: 4, maxRequests: 4000 });
    const after = await nginxStatus(nginx.url);
    expect(result).toMatchObject({ stoppedBy: 'max-requests', total: 4000, errors: 0, unanswered: 0 });
    expect(result.reconnects).toBeGreaterThanOrEqual(4000 / 100 - 4);
    // stub_status counts its own request too.
    expect(after.requests - before.requests - 1).toBe(4000);
  });

  it('holds --max-requests across 2 worker threads and says the run stopped short, and why (CLI)', async () => {
    const out = runOutDir();
    const before = await nginxStatus(nginx.url);
    const load = ['--saturate', '--workers', '2', '--connections', '8', '--duration', '5', '--max-requests', '3000'];
    const run = await runCli(['bench', '--target', nginx.url, '--path', '/k100', ...load, '--out', out]);
    const after = await nginxStatus(nginx.url);
    expect(run.code, run.stderr).toBe(0);
    expect(after.requests - before.requests - 1).toBe(3000);
    const { saturation } = benchJson(out);
    const reason = 'the request cap of 3000 was reached (raise --max-requests)';
    expect(saturation).toMatchObject({ total: 3000, errors: 0, shortRun: { askedSec: 5, reason } });
    expect(saturation.shortRun?.ranSec).toBeLessThan(5);
    expect(readFileSync(join(out, 'bench.md'), 'utf8')).toContain('of the 5 s asked: the request cap of 3000 was reached');
    expect(run.stderr).toContain('the request cap of 3000 was reached');
  });

  it('stops early on a target that refuses every connection, and says so (CLI)', async () => {
    const port = await closedPort();
    const out = runOutDir();
    const load = ['--saturate', '--workers', '1', '--connections', '2', '--duration', '5'];
    const run = await runCli(['bench', '--target', `http://127.0.0.1:${port}`, ...load, '--out', out]);
    // No answer at all is no benchmark: said loudly, exit 3 (issue 13), the report still written.
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('WARNING: no answer came back');
    const { saturation } = benchJson(out);
    expect(saturation.total).toBe(0);
    expect(saturation.shortRun?.reason).toBe('every connection closed 5 times in a row without an answer (last error: ECONNREFUSED)');
    expect(saturation.shortRun?.ranSec).toBeLessThan(2);
    expect(run.stdout).toContain('ECONNREFUSED');
  });
});

const benchJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as Required<Pick<BenchReport, 'saturation'>>;

const outDirs: string[] = [];
afterAll(() => {
  for (const dir of outDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory for a CLI run's reports (runCli passes its own to run and demo only); removed after the tests. */
function runOutDir(): string {
  outDirs.push(mkdtempSync(join(tmpdir(), 'gatecheck-bench-')));
  return outDirs.at(-1)!;
}

/** A loopback port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
