/**
 * nginx `limit_req` alone (no ModSecurity, unlike test/support/nginx.ts), keyed on `x-api-key`.
 *
 * nginx keeps, per key, `excess` in thousandths of a request (ngx_http_limit_req_module.c): each request
 * sets `excess' = max(0, excess - rate*elapsed_ms/1000 + 1000)` and is refused when `excess' > burst*1000`;
 * a refused request leaves the state alone. The clamp at 0 comes after the +1000, so the first request
 * after an idle of at least (excess/1000 + 1)/rate leaves excess 0, as a never-seen key's first request
 * does: from cold and from a long enough idle alike, `burst + 1` pass at once (measured: 11 for burst=10,
 * new key and after 1.5 s idle at 20 r/s). The bucket seen from outside holds burst+1. Without `nodelay` an accepted
 * request waits `(excess' - delay*1000)/rate` (zero while within `delay`): a leaky bucket that delays.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureLog, launch, makeDir, probeHttp, readIfExists, removeDir, withFreePort } from './process.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export const NGINX_BINARY = '/usr/sbin/nginx';

export interface NginxLimitReqSpec {
  limiter: 'nginx-limit-req';
  /** `rate=` in requests per second (whole numbers: nginx rounds below 1 r/s). */
  ratePerSec: number;
  burst: number;
  /** `nodelay`: serve the burst at once; `delay`: delay every excess request; a number: `delay=N`. */
  mode: 'nodelay' | 'delay' | { delay: number };
  /** `limit_req_status`; 503 is nginx's default (the directive is then left out). */
  status: 429 | 503;
}

export const NGINX_LIMIT_REQ_PRESETS = {
  /** `rate=20r/s burst=10 nodelay; limit_req_status 429;` */
  nodelay: { limiter: 'nginx-limit-req', ratePerSec: 20, burst: 10, mode: 'nodelay', status: 429 },
  /** `rate=20r/s burst=10;` and nginx's default refusal, 503: every excess request is delayed. */
  delay: { limiter: 'nginx-limit-req', ratePerSec: 20, burst: 10, mode: 'delay', status: 503 },
  /** `rate=20r/s burst=10 delay=4; limit_req_status 429;` 4 excess requests at once, then delays. */
  'delay-4': { limiter: 'nginx-limit-req', ratePerSec: 20, burst: 10, mode: { delay: 4 }, status: 429 },
} as const satisfies Record<string, NginxLimitReqSpec>;

export function nginxLimitReqAvailable(): boolean {
  return existsSync(NGINX_BINARY);
}

export function nginxLimitReqTruth(spec: NginxLimitReqSpec): LimiterTruth {
  const delaying = spec.mode !== 'nodelay';
  const delayAfter = spec.mode === 'delay' ? 0 : spec.mode === 'nodelay' ? undefined : spec.mode.delay;
  return {
    algorithm: delaying ? 'leaky-bucket-delay' : 'token-bucket',
    ratePerSec: spec.ratePerSec,
    burst: spec.burst + 1,
    coldBurst: spec.burst + 1,
    configured: `limit_req_zone $http_x_api_key rate=${spec.ratePerSec}r/s; limit_req burst=${spec.burst}${modeText(spec)};${
      spec.status === 503 ? '' : ` limit_req_status ${spec.status};`
    }`,
    status: spec.status,
    ...(delayAfter === undefined ? {} : { delayAfter }),
    headers: [],
    notes: [
      'excess in thousandths of a request, elapsed time in ms from nginx cached clock',
      'burst=B admits B+1 at once, from a new key or after an idle of at least (B+1)/rate: excess is clamped at 0 after adding 1000',
      ...(delaying ? [`accepted excess request k (1-based) beyond ${delayAfter ?? 0} waits (k - delay)/rate s`] : []),
    ],
  };
}

export async function startNginxLimitReq(spec: NginxLimitReqSpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('nginx-limit-req');
  try {
    // Run as root, nginx's workers run as `nobody`: they must enter the directory and read the file served.
    chmodSync(dir, 0o711);
    mkdirSync(join(dir, 'www'));
    chmodSync(join(dir, 'www'), 0o755);
    writeFileSync(join(dir, 'www', 'ok.json'), '{"ok":true}', { mode: 0o644 });
    const errorLog = join(dir, 'error.log');
    return await withFreePort(async (port) => {
      writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, spec), { mode: 0o600 });
      const started = await launch({
        name: 'nginx',
        command: NGINX_BINARY,
        args: ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', errorLog],
        stopSignal: 'SIGQUIT',
        ready: () => probeHttp(port),
      });
      if (!started.ok) return { ok: false, log: failureLog('nginx', started.reason, readIfExists(errorLog), started.output) };
      const { proc } = started;
      return {
        ok: true,
        value: {
          name,
          url: `http://127.0.0.1:${port}`,
          truth: nginxLimitReqTruth(spec),
          pids: proc.tree(),
          ports: [port],
          dir,
          log: () => readIfExists(errorLog) + proc.output(),
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

function modeText(spec: NginxLimitReqSpec): string {
  return spec.mode === 'nodelay' ? ' nodelay' : spec.mode === 'delay' ? '' : ` delay=${spec.mode.delay}`;
}

function nginxConf(dir: string, port: number, spec: NginxLimitReqSpec): string {
  const mode = modeText(spec);
  return [
    '# gatecheck limiter harness: nginx limit_req. Generated by test/support/limiters/nginx-limit-req.ts.',
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '    access_log off;',
    '    server_tokens off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((temp) => `    ${temp}_temp_path ${join(dir, `${temp}_temp`)};`),
    '    types {}',
    '    default_type application/json;',
    '    etag off;',
    '    keepalive_requests 100000;',
    '    # Requests without a key have an empty key, which limit_req does not count.',
    `    limit_req_zone $http_x_api_key zone=per_key:1m rate=${spec.ratePerSec}r/s;`,
    ...(spec.status === 503 ? ['    # limit_req_status left out: nginx refuses with 503.'] : [`    limit_req_status ${spec.status};`]),
    '    server {',
    `        listen 127.0.0.1:${port};`,
    '        location = /health { return 200 \'{"status":"ok"}\'; }',
    '        location / {',
    `            limit_req zone=per_key burst=${spec.burst}${mode};`,
    '            # How long nginx held the request (s, ms resolution), refusals too: a delayed request arrived that much earlier.',
    '            add_header X-Request-Time $request_time always;',
    '            # A static file, not `return 200`: return answers in the rewrite phase, before limit_req runs.',
    `            root ${join(dir, 'www')};`,
    '            try_files /ok.json =500;',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}
