/**
 * Varnish with varnish-modules' `vsthrottle`, keyed on `x-api-key`, answering from VCL (`synth`): no backend.
 *
 * vsthrottle (src/vmod_vsthrottle.c) keeps a token bucket per (key, limit, period, block): a new bucket is
 * full (`limit` tokens); each call adds `(long)(elapsed/period*limit)` tokens, truncated, and moves
 * `last_used` to now on every accepted request. So a refill is lost whenever an accepted request comes
 * less than period/limit after the previous one: the long-run rate is at most limit/period and the gaps
 * between accepts are whole multiples of the arrival grid. With `block > 0`, a request refused for an
 * empty bucket starts a block: every request is refused until it ends (and still takes tokens meanwhile).
 * Blocked requests move `last_used` too, so a client that keeps sending faster than limit/period through
 * the block never sees a whole token again: locked out until it pauses.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureLog, launch, makeDir, probeHttp, removeDir, withFreePort } from './process.js';
import type { LimiterTruth, RunningLimiter } from './types.js';

export const VARNISH_PATHS = {
  binary: '/usr/sbin/varnishd',
  vmod: '/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_vsthrottle.so',
} as const;

export interface VarnishSpec {
  limiter: 'varnish-vsthrottle';
  limit: number;
  periodSec: number;
  /** Seconds of lockout once the bucket is empty (vsthrottle's `block`); 0 for none. */
  blockSec: number;
  status: number;
}

export const VARNISH_PRESETS = {
  /** `vsthrottle.is_denied(key, 20, 1s)`: a 20-token bucket refilled at 20/s. */
  'token-bucket': { limiter: 'varnish-vsthrottle', limit: 20, periodSec: 1, blockSec: 0, status: 429 },
  /** `vsthrottle.is_denied(key, 10, 1s, 2s)`: a 10-token bucket at 10/s, and 2 s of lockout once empty. */
  block: { limiter: 'varnish-vsthrottle', limit: 10, periodSec: 1, blockSec: 2, status: 429 },
} as const satisfies Record<string, VarnishSpec>;

export function varnishAvailable(): boolean {
  return Object.values(VARNISH_PATHS).every((path) => existsSync(path));
}

export function varnishTruth(spec: VarnishSpec): LimiterTruth {
  return {
    algorithm: 'token-bucket',
    configured: `vsthrottle.is_denied(req.http.x-api-key, ${spec.limit}, ${spec.periodSec}s${block(spec)})`,
    ratePerSec: spec.limit / spec.periodSec,
    burst: spec.limit,
    coldBurst: spec.limit,
    truncatedRefill: true,
    status: spec.status,
    ...(spec.blockSec > 0 ? { lockoutSec: spec.blockSec } : {}),
    headers: [],
    notes: [
      'refill truncated to whole tokens and reset on every accept: gaps between accepts are multiples of the arrival grid',
      'measured: 14 and 16 accepted per second at 40 r/s paced (limit 20 per 1 s)',
      ...(spec.blockSec > 0
        ? [
            'requests during a block are refused, take tokens, and move last_used: a client sending faster than limit/period',
            'through the block never gets a token back and is blocked again at once (measured: 0 accepted in 2 s at 2x rate)',
          ]
        : []),
    ],
  };
}

export async function startVarnish(spec: VarnishSpec, name: string): Promise<RunningLimiter> {
  const dir = makeDir('varnish');
  try {
    const vcl = join(dir, 'limiter.vcl');
    writeFileSync(vcl, varnishVcl(spec), { mode: 0o644 });
    return await withFreePort(async (port) => {
      const started = await launch({
        name: 'varnishd',
        command: VARNISH_PATHS.binary,
        args: [
          '-F',
          // Its own working directory (shared memory log, compiled VCL), not /var/lib/varnish.
          '-n',
          join(dir, 'work'),
          '-a',
          `127.0.0.1:${port}`,
          '-f',
          vcl,
          // No management port: nothing else listens.
          '-T',
          'none',
          // Run as the calling user (root in CI) rather than switching to the varnish users: the temp dir is ours.
          '-j',
          'none',
          '-s',
          'malloc,16m',
          '-p',
          'thread_pools=1',
          '-p',
          'thread_pool_min=10',
          '-p',
          'thread_pool_max=200',
        ],
        ready: () => probeHttp(port),
      });
      if (!started.ok) return { ok: false, log: failureLog('varnishd', started.reason, started.output) };
      const { proc } = started;
      return {
        ok: true,
        value: {
          name,
          url: `http://127.0.0.1:${port}`,
          truth: varnishTruth(spec),
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

function block(spec: VarnishSpec): string {
  return spec.blockSec > 0 ? `, ${spec.blockSec}s` : '';
}

function varnishVcl(spec: VarnishSpec): string {
  return [
    '# gatecheck limiter harness: varnish + vsthrottle. Generated by test/support/limiters/varnish.ts.',
    'vcl 4.1;',
    'import vsthrottle;',
    'backend default none;',
    '',
    'sub vcl_recv {',
    '    if (req.url == "/health") {',
    '        return (synth(200, "health"));',
    '    }',
    '    # Without a key vsthrottle would deny (a NULL key is denied): requests without one are not limited.',
    `    if (req.http.x-api-key && vsthrottle.is_denied(req.http.x-api-key, ${spec.limit}, ${spec.periodSec}s${block(spec)})) {`,
    `        return (synth(${spec.status}, "Too Many Requests"));`,
    '    }',
    '    return (synth(200, "ok"));',
    '}',
    '',
    '# Bodies in triple-quoted strings: a {"…"} long string would end at the first `"}`.',
    'sub vcl_synth {',
    '    set resp.http.content-type = "application/json";',
    '    if (resp.reason == "health") {',
    '        set resp.body = """{"status":"ok"}""";',
    '    } else if (resp.status == 200) {',
    '        set resp.body = """{"ok":true}""";',
    '    } else {',
    '        set resp.body = """{"message":"Too Many Requests"}""";',
    '    }',
    '    return (deliver);',
    '}',
    '',
  ].join('\n');
}
