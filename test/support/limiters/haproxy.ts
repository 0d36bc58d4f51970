/**
 * HAProxy stick-table limiters keyed on `x-api-key`, answering from HAProxy itself (`http-request return`).
 *
 * A stick-table rate counter over period P (src/freq_ctr.c) reads `curr + prev*(time left in the current
 * period)/P`: a sliding-window counter. Two ways to count:
 * - `accepted-only`: `gpc0_rate(P)` incremented only for requests that pass the limit (the deny rule comes
 *   first and stops evaluation, so `sc-inc-gpc0` runs for accepted requests only: "inc unless over").
 * - `all-requests`: `http_req_rate(P)`, which `track-sc0` increments for every request, refused ones too:
 *   a client sending above the limit keeps its own counter up and stays refused until it pauses.
 * `nbthread 1`: with several threads, two requests can both read limit-1 before either increments, so the
 * limit would be overshot by up to one per extra thread; the truth here is for one thread.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureLog, launch, makeDir, probeHttp, removeDir, withFreePort } from './process.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';

export interface HaproxySpec {
  limiter: 'haproxy';
  counter: 'accepted-only' | 'all-requests';
  /** Requests allowed per period. */
  limit: number;
  periodSec: number;
  status: number;
}

export const HAPROXY_PRESETS = {
  /** `gpc0_rate(1s)`, deny 429 when 20 were accepted in the sliding second; only accepted requests count. */
  'accepted-only': { limiter: 'haproxy', counter: 'accepted-only', limit: 20, periodSec: 1, status: 429 },
  /** `http_req_rate(1s)`, deny 429 above 20 requests in the sliding second; refused requests count too. */
  'all-requests': { limiter: 'haproxy', counter: 'all-requests', limit: 20, periodSec: 1, status: 429 },
} as const satisfies Record<string, HaproxySpec>;

export function haproxyAvailable(): boolean {
  return existsSync(HAPROXY_BINARY);
}

export function haproxyTruth(spec: HaproxySpec): LimiterTruth {
  return {
    algorithm: 'sliding-window',
    configured:
      spec.counter === 'accepted-only'
        ? `store gpc0_rate(${spec.periodSec}s); deny deny_status ${spec.status} if { sc_gpc0_rate(0) ge ${spec.limit} }; sc-inc-gpc0(0)`
        : `store http_req_rate(${spec.periodSec}s); deny deny_status ${spec.status} if { sc_http_req_rate(0) gt ${spec.limit} }`,
    ratePerSec: spec.limit / spec.periodSec,
    coldBurst: spec.limit,
    windowSec: spec.periodSec,
    limit: spec.limit,
    countsRejected: spec.counter === 'all-requests',
    status: spec.status,
    headers: [],
    notes: [
      'counter reads curr + prev*(time left in period)/period; the period starts at the first event, restarts after 2 idle periods',
      ...(spec.counter === 'all-requests' ? ['a client above the limit is refused until it slows below the limit: lockout'] : []),
    ],
  };
}

export async function startHaproxy(spec: HaproxySpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('haproxy');
  try {
    return await withFreePort(async (port) => {
      const config = join(dir, 'haproxy.cfg');
      writeFileSync(config, haproxyConf(port, spec), { mode: 0o600 });
      // -db: foreground, no daemon; logs go to stderr.
      const started = await launch({ name: 'haproxy', command: HAPROXY_BINARY, args: ['-db', '-f', config], ready: () => probeHttp(port) });
      if (!started.ok) return { ok: false, log: failureLog('haproxy', started.reason, started.output) };
      const { proc } = started;
      return {
        ok: true,
        value: {
          name,
          url: `http://127.0.0.1:${port}`,
          truth: haproxyTruth(spec),
          pids: proc.tree(),
          ports: [port],
          dir,
          log: () => proc.output(),
          stop: async () => {
            await proc.stop();
            removeDir(dir);
          },
        },
      };
    });
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}

function haproxyConf(port: number, spec: HaproxySpec): string {
  const periodMs = Math.round(spec.periodSec * 1000);
  const counting =
    spec.counter === 'accepted-only'
      ? [
          `stick-table type string len 128 size 10k expire ${periodMs * 10}ms store gpc0_rate(${periodMs}ms)`,
          'http-request track-sc0 req.hdr(x-api-key) if has_key',
          '# The deny stops evaluation: the increment below runs for accepted requests only.',
          `http-request deny deny_status ${spec.status} if has_key { sc_gpc0_rate(0) ge ${spec.limit} }`,
          'http-request sc-inc-gpc0(0) if has_key',
        ]
      : [
          `stick-table type string len 128 size 10k expire ${periodMs * 10}ms store http_req_rate(${periodMs}ms)`,
          '# track-sc0 counts this request (and every refused one) in http_req_rate.',
          'http-request track-sc0 req.hdr(x-api-key) if has_key',
          `http-request deny deny_status ${spec.status} if has_key { sc_http_req_rate(0) gt ${spec.limit} }`,
        ];
  return [
    '# gatecheck limiter harness: HAProxy stick table. Generated by test/support/limiters/haproxy.ts.',
    'global',
    '    nbthread 1',
    'defaults',
    '    mode http',
    '    timeout connect 1s',
    '    timeout client 10s',
    '    timeout server 10s',
    'frontend limiter',
    `    bind 127.0.0.1:${port}`,
    '    acl has_key req.hdr(x-api-key) -m found',
    '    http-request return status 200 content-type application/json string \'{"status":"ok"}\' if { path /health }',
    ...counting.map((line) => `    ${line}`),
    '    http-request return status 200 content-type application/json string \'{"ok":true}\'',
    '',
  ].join('\n');
}
