import { beforeAll, describe, expect, it } from 'vitest';
import { identify, type Identification } from '../../src/checks/throttle/identify/identify.js';
import { REFUSED, simulate, type ModelSpec } from '../../src/checks/throttle/identify/models.js';
import { designProbe } from '../../src/checks/throttle/identify/probe.js';
import type { ObservedRequest } from '../../src/checks/throttle/identify/score.js';
import { fitFor, KNOWN_LIMITERS, prng, syntheticRun, withinTolerance, type KnownLimiter } from '../support/limiter-sim.js';

const T0 = 1_780_000_000_000; // a whole second (epoch ms)
const accepted = (spec: ModelSpec, times: number[]) => simulate(spec, times).filter((v) => v !== REFUSED).length;
const volley = (at: number, n: number) => Array.from({ length: n }, () => at);
const paced = (from: number, n: number, everyMs: number) => Array.from({ length: n }, (_, i) => from + i * everyMs);

describe('limiter models (behaviour read from each project source)', () => {
  it('nginx limit_req: a new key admits burst+1, a known idle key burst; a refusal leaves the state unchanged', () => {
    const nginx = (freshKey: boolean): ModelSpec => ({ family: 'leaky-bucket', ratePerSec: 10, burst: 5, delay: 1e9, freshKey });
    expect(accepted(nginx(true), volley(T0, 20))).toBe(6);
    expect(accepted(nginx(false), volley(T0, 20))).toBe(5);
    // 200 refusals in 100 ms change nothing: 100 ms later one token (1 per 100 ms) has come back.
    expect(accepted(nginx(false), [...volley(T0, 5), ...paced(T0 + 1, 99, 1), T0 + 100])).toBe(6);
  });

  it('nginx without nodelay holds each request above `delay` for (excess − delay)/rate', () => {
    const held = simulate({ family: 'leaky-bucket', ratePerSec: 20, burst: 5, delay: 2, freshKey: false }, volley(T0, 7));
    expect(held).toEqual([0, 0, 50, 100, 150, REFUSED, REFUSED]);
  });

  it('token bucket / GCRA: B or B+1 from cold, then the rate', () => {
    expect(accepted({ family: 'token-bucket', ratePerSec: 50, burst: 20, coldExtra: 0 }, volley(T0, 40))).toBe(20);
    expect(accepted({ family: 'token-bucket', ratePerSec: 50, burst: 20, coldExtra: 1 }, volley(T0, 40))).toBe(21);
    // 1 s at 100/s after the volley: 50 more.
    expect(
      accepted({ family: 'token-bucket', ratePerSec: 50, burst: 20, coldExtra: 0 }, [...volley(T0, 40), ...paced(T0 + 10, 100, 10)]),
    ).toBe(70);
  });

  it('vsthrottle loses the fraction of a token at every accept: under 1.4× overload it admits less than its rate', () => {
    const vsthrottle: ModelSpec = { family: 'integer-bucket', limit: 50, periodMs: 1000, blockMs: 0 };
    // 2 s at 70/s after the bucket is drained: a token each 2nd request (28.6 ms → trunc(1.43) = 1), i.e. 35/s.
    const admitted = accepted(vsthrottle, [...volley(T0, 50), ...paced(T0 + 1, 140, 1000 / 70)]) - 50;
    expect(admitted).toBeGreaterThanOrEqual(69);
    expect(admitted).toBeLessThanOrEqual(71);
  });

  it('vsthrottle block: the first refusal locks the key out, and nothing refills meanwhile', () => {
    const blocked: ModelSpec = { family: 'integer-bucket', limit: 10, periodMs: 1000, blockMs: 2000 };
    // Refused at 11th, then a trickle every 50 ms (0.5 token each) for 1.9 s: all locked out.
    expect(accepted(blocked, [...volley(T0, 11), ...paced(T0 + 50, 38, 50)])).toBe(10);
  });

  it('timer refill: tokens arrive in clumps at its fills, whatever the sends', () => {
    const envoy: ModelSpec = {
      family: 'timer-refill',
      tokensPerFill: 5,
      fillIntervalMs: 100,
      maxTokens: 10,
      phaseMs: 30,
      alignment: 'free',
    };
    const verdicts = simulate(envoy, [...volley(T0, 10), ...paced(T0 + 1, 20, 5)]);
    // Fill at T0+30: the five sends right after it are accepted, the rest refused.
    expect(
      verdicts
        .slice(10)
        .map((v) => (v === REFUSED ? '.' : 'A'))
        .join(''),
    ).toBe('......AAAAA.........');
  });

  it('fixed window: aligned to UTC a volley straddling the boundary gets 2×; opened by the first request, 1×', () => {
    const straddle = paced(T0 + 1000 - 40, 100, 0.8);
    expect(accepted({ family: 'fixed-window', limit: 30, windowMs: 1000, alignment: 'utc' }, straddle)).toBe(60);
    expect(accepted({ family: 'fixed-window', limit: 30, windowMs: 1000, alignment: 'first-request' }, straddle)).toBe(30);
  });

  it('@fastify/rate-limit continueExceeding: every refusal restarts the window, so a client above the limit is locked out', () => {
    const fastify = (restartOnRefusal: boolean): ModelSpec => ({
      family: 'fixed-window',
      limit: 15,
      windowMs: 1000,
      alignment: 'first-request',
      restartOnRefusal,
    });
    // A volley of 20, then 20/s (every 50 ms) up to T0 + 3 s: without the restart the windows opened at T0,
    // T0 + 1 s and T0 + 2 s admit 15 each and the one at T0 + 3 s its first request; with it every refusal
    // restarts the window and nothing more gets through.
    const over = [...volley(T0, 20), ...paced(T0 + 50, 60, 50)];
    expect(accepted(fastify(false), over)).toBe(3 * 15 + 1);
    expect(accepted(fastify(true), over)).toBe(15);
    // A whole window of silence after the last refusal: a full window again.
    expect(accepted(fastify(true), [...over, ...volley(T0 + 50 + 59 * 50 + 1000, 20)])).toBe(30);
  });

  it('HAProxy sliding counter: counting refusals starves a client above the limit; ≥2 periods of silence forget', () => {
    const over = paced(T0, 300, 1000 / 75); // 4 s at 75/s against 50 per s
    const rate = (countsRejected: boolean): ModelSpec => ({
      family: 'sliding-window',
      limit: 50,
      windowMs: 1000,
      countsRejected,
      alignment: 'first-request',
    });
    expect(accepted(rate(true), over)).toBe(50);
    const acceptedOnly = accepted(rate(false), over);
    expect(acceptedOnly).toBeGreaterThan(180);
    expect(acceptedOnly).toBeLessThan(215);
    // After 2 s of silence the previous period no longer weighs: a full limit again.
    expect(accepted(rate(true), [...over, ...volley(T0 + 6000, 80)]) - 50).toBe(50);
  });
});

describe('probe schedule', () => {
  it('for rate 50 / burst 20: every segment, ≤ 10 s, the straddle centred on a wall-clock second', () => {
    const s = designProbe({ rateLimit: 50, burstLimit: 20, epochMs: T0 + 1234 });
    expect(s.segments.map((g) => g.name)).toEqual([
      'cold-volley',
      'trickle-0.8x',
      'overload-2.7x',
      'overload-1.4x',
      'gap-0.5w',
      'gap-1.5w',
      'gap-2.5w',
      'straddle',
    ]);
    expect(s.startEpochMs).toBe(T0 + 2100);
    expect(s.durationMs).toBeLessThanOrEqual(10_000);
    expect((s.startEpochMs + s.boundaryMs) % 1000).toBe(0);
    expect(s.requests.length).toBe(s.segments.reduce((n, g) => n + g.requests, 0));
    expect(s.requests.length).toBeLessThan(450);
  });

  it('for a 1 s fixed window of 50: volleys sized to the window, gaps in window lengths', () => {
    const s = designProbe({ rateLimit: 50, burstLimit: 50, windowSec: 1, epochMs: T0 });
    expect(s.windowMs).toBe(1000);
    expect(s.segments.find((g) => g.name === 'cold-volley')!.requests).toBe(110);
    expect(s.segments.find((g) => g.name === 'straddle')!.requests).toBe(110);
    expect(s.durationMs).toBeLessThanOrEqual(10_000);
  });

  it('shrinks the gaps to stay within 10 s when the window is long', () => {
    const s = designProbe({ rateLimit: 10, burstLimit: 50, windowSec: 5, epochMs: T0 });
    expect(s.durationMs).toBeLessThanOrEqual(10_000);
    expect(s.windowMs).toBeLessThan(5000);
  });
});

const SEEDS = [1, 2, 3, 4];

describe('identification of synthetic limiters (jittered network: 0.1–5 ms each way, 1% stalls of 50 ms)', () => {
  const runs: Array<{ truth: KnownLimiter; seed: number; id: Identification; cpuMs: number }> = [];
  beforeAll(() => {
    for (const truth of KNOWN_LIMITERS)
      for (const seed of SEEDS) {
        const { observations } = syntheticRun(truth, seed);
        const before = process.cpuUsage();
        const id = identify(observations, truth.hints);
        runs.push({ truth, seed, id, cpuMs: process.cpuUsage(before).user / 1000 });
      }
  }, 120_000);

  it.each(KNOWN_LIMITERS.flatMap((truth) => SEEDS.map((seed) => [truth.name, seed, truth] as const)))(
    '%s, seed %i',
    (_name, seed, truth) => {
      const { id } = runs.find((r) => r.truth === truth && r.seed === seed)!;
      const fit = fitFor(id, truth.algorithm);
      expect(fit, `${id.algorithm} (${id.best.params.variant}), runner-up ${id.runnerUp?.algorithm}`).toBeDefined();
      const { rateError, burstError, ok } = withinTolerance(fit!, truth);
      expect(ok, `rate ${(rateError * 100).toFixed(1)}%, burst ${burstError}`).toBe(true);
      expect(id.residual).toBeLessThanOrEqual(id.residualBound);
      // The evidence names where the others failed.
      expect(id.evidence.length).toBe(id.families.length - 1);
    },
  );

  it('confusion matrix: no family is identified as another', () => {
    const algorithms = ['token-bucket', 'leaky-bucket-delay', 'timer-refill', 'fixed-window', 'sliding-window', 'unknown'] as const;
    const matrix = new Map<string, Map<string, number>>();
    for (const { truth, id } of runs) {
      const said = fitFor(id, truth.algorithm) ? truth.algorithm : id.algorithm;
      const row = matrix.get(truth.algorithm) ?? new Map<string, number>();
      row.set(said, (row.get(said) ?? 0) + 1);
      matrix.set(truth.algorithm, row);
    }
    const table = [...matrix].map(
      ([truth, row]) => `${truth.padEnd(20)} ${algorithms.map((a) => String(row.get(a) ?? 0).padStart(4)).join('')}`,
    );
    console.log(`truth \\ identified    ${algorithms.map((a) => a.slice(0, 4)).join(' ')}\n${table.join('\n')}`);
    for (const [truth, row] of matrix)
      for (const [said, count] of row) if (said !== truth) expect({ truth, said, count }).toEqual({ truth, said, count: 0 });
  });

  it('one route identifies in under 200 ms of CPU (median; max printed)', () => {
    const cpu = runs.map((r) => r.cpuMs).sort((a, b) => a - b);
    const median = cpu[Math.floor(cpu.length / 2)]!;
    console.log(`identification CPU ms: median ${median.toFixed(0)}, max ${cpu[cpu.length - 1]!.toFixed(0)} over ${cpu.length} routes`);
    expect(median).toBeLessThan(200);
  });
});

describe('unknown', () => {
  it('accept/refuse at random fits no limiter', () => {
    const random = prng(5);
    const schedule = designProbe({ rateLimit: 50, burstLimit: 20, epochMs: T0 });
    const observations: ObservedRequest[] = schedule.requests.map((r) => {
      const sendMs = schedule.startEpochMs + r.atMs;
      return { sendMs, answerMs: sendMs + 2 + random() * 3, accepted: random() < 0.5, segment: r.segment };
    });
    const id = identify(observations, { rateLimit: 50, burstLimit: 20 });
    expect(id.algorithm).toBe('unknown');
    expect(id.residual).toBeGreaterThan(id.residualBound);
  });
});
