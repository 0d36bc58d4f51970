/**
 * The throttle check's evaluate on the identification probe (synthetic limiters behind a jittery network,
 * test/support/limiter-sim.ts): each family is named and the policy judged in its terms; the older probe
 * shape (k6, recordings) still goes to the token-bucket estimator.
 */
import { describe, expect, it } from 'vitest';
import { throttleCheck, type BucketObserved, type ThrottleNotes } from '../../src/checks/throttle/check.js';
import { ENVELOPE_MAX_POINTS, IDENTIFY_PROBE_PREFIX, type IdentifiedObserved } from '../../src/checks/throttle/identified.js';
import { designProbe } from '../../src/checks/throttle/identify/probe.js';
import { simulateBucket } from '../../src/checks/throttle/estimate.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { KNOWN_LIMITERS, observeSynthetic, type KnownLimiter } from '../support/limiter-sim.js';

const EPOCH = 1_780_000_000_000;
const OFFERED = { ratePerSec: 50, windowRatePerSec: { min: 0, median: 50, max: 500 }, loopDelayMs: { p99: 1, max: 2 } };

function policyOf(throttle: Record<string, unknown>): Policy {
  const route = { method: 'GET', path: '/api/items', throttle };
  return parsePolicy(JSON.stringify({ version: 1, target: 'http://gw.test', routes: [route] }), 'policy.json', { env: {} });
}

/** The limiter's answers to the probe the check would have sent, as the stream hands them over, and the notes. */
function probeAgainst(truth: KnownLimiter, seed: number, refusal = 429): { observations: Observation[]; notes: ThrottleNotes } {
  const schedule = designProbe({ ...truth.hints, epochMs: EPOCH + 123 + seed * 7919 });
  const seen = observeSynthetic(truth.spec, schedule, seed);
  const observations = seen.map((o): Observation => ({
    probe: IDENTIFY_PROBE_PREFIX + o.segment,
    method: 'GET',
    path: '/api/items',
    intendedAtMs: o.sendMs - EPOCH,
    sentAtMs: o.sendMs - EPOCH,
    doneAtMs: o.answerMs - EPOCH,
    status: o.accepted ? 200 : refusal,
    headers: {},
  }));
  const segments = schedule.segments.map((s) => ({
    ...s,
    ratePerSec: s.startMs === s.endMs || s.name === 'straddle' ? 0 : ((s.requests - 1) / (s.endMs - s.startMs)) * 1000,
  }));
  const identify = {
    epochAtOriginMs: EPOCH,
    startEpochMs: schedule.startEpochMs,
    windowMs: schedule.windowMs,
    durationMs: schedule.durationMs,
    idleWaitMs: 2000,
    segments,
    sent: observations.length,
    dropped: 0,
    maxSendLagMs: 1,
    offered: OFFERED,
  };
  return { observations, notes: { identify } };
}

function judge(truth: KnownLimiter, throttle: Record<string, unknown>, seed = 3, refusal = 429) {
  const policy = policyOf(throttle);
  const spec = throttleCheck.select(policy)[0]!.spec;
  const verdict = throttleCheck.evaluate(spec, probeAgainst(truth, seed, refusal), policy);
  return { verdict, observed: verdict.observed as IdentifiedObserved, ids: verdict.findings.map((f) => `${f.id}:${f.severity}`) };
}

const byName = (name: string) => KNOWN_LIMITERS.find((l) => l.name.startsWith(name))!;

describe('throttle check on the identification probe: each family named, judged in its terms', () => {
  it.each(KNOWN_LIMITERS.map((l) => [l.name, l] as const))('%s', (_, truth) => {
    const { verdict, observed, ids } = judge(truth, truth.hints);
    expect(observed.algorithm, verdict.summary).toBe(truth.algorithm);
    expect(ids, verdict.summary).toContain(`algorithm:${truth.algorithm}:info`);
    // Counting refusals (or locking the key out) starves an over-limit client: high, whatever the two numbers say.
    // A window that restarts on every refusal (@fastify/rate-limit continueExceeding) starves it as well.
    const spec = truth.spec;
    const starves =
      ('countsRejected' in spec && spec.countsRejected) ||
      ('blockMs' in spec && spec.blockMs > 0) ||
      ('restartOnRefusal' in spec && spec.restartOnRefusal === true);
    expect(verdict.status, verdict.summary).toBe(starves ? 'fail' : 'pass');
    if (starves) expect(ids).toContain('starves-over-limit:high');
    // Twice the rate in the policy: the limiter refuses what it promises.
    const twice = judge(truth, { ...truth.hints, rateLimit: truth.hints.rateLimit * 2 });
    if (!truth.rateHidden) {
      expect(twice.verdict.status, twice.verdict.summary).toBe('fail');
      expect(twice.ids.join(' '), twice.verdict.summary).toMatch(/rate-too-low:high|starves-over-limit:high/);
    }
  });

  it('a delaying limiter is a medium finding, unless the policy allows its delay', () => {
    const truth = byName('nginx 20r/s burst=10 (delaying');
    const held = judge(truth, truth.hints);
    expect(
      held.ids.find((id) => id.startsWith('adds-delay')),
      held.verdict.summary,
    ).toBe('adds-delay:medium');
    expect(held.observed.maxHoldMs).toBeGreaterThan(300);
    const allowed = judge(truth, { ...truth.hints, allowDelayMs: 1000 });
    expect(allowed.ids.some((id) => id.startsWith('adds-delay'))).toBe(false);
  });

  it('a fixed window aligned to UTC admits up to 2× across a boundary: low, with the count and span', () => {
    const truth = byName('Kong');
    const { verdict, ids } = judge(truth, truth.hints);
    expect(ids, verdict.summary).toContain('window-boundary:low');
    const found = verdict.findings.find((f) => f.id === 'window-boundary')!;
    expect(found.title).toMatch(/(1[5-9]\d|200) accepted within \d+ ms across a window boundary \(limit 100 per 1 s\)/);
  });

  it('nginx burst=B admits B+1 from idle: a policy of B passes, the +1 is never a finding', () => {
    const truth = byName('nginx nodelay');
    const { verdict, observed } = judge(truth, { rateLimit: 50, burstLimit: 10 });
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(observed.params.coldBurst ?? observed.params.burst).toBe(11);
  });

  it('a bucket three times the policy is burst-too-large (high)', () => {
    const { verdict, ids } = judge(byName('GCRA'), { rateLimit: 50, burstLimit: 6 });
    expect(verdict.status).toBe('fail');
    expect(ids).toContain('burst-too-large:high');
  });

  it('refusals with a status the policy does not list: an error that suggests the setting', () => {
    const truth = byName('nginx nodelay');
    const { verdict } = judge(truth, truth.hints, 3, 503);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toContain('throttle: { status: [503] }');
    const listed = judge(truth, { ...truth.hints, status: [503] }, 3, 503);
    expect(listed.verdict.status, listed.verdict.summary).toBe('pass');
  });

  it('a gateway that refuses nothing: no-limit (high)', () => {
    const open: KnownLimiter = { ...byName('GCRA'), spec: { family: 'token-bucket', ratePerSec: 1e6, burst: 1e6, coldExtra: 0 } };
    const { verdict, ids } = judge(open, { rateLimit: 50, burstLimit: 20 });
    expect(verdict.status).toBe('fail');
    expect(ids).toEqual(['no-limit:high']);
  });

  it('client-bound: the overload went out slower than designed, inconclusive', () => {
    const truth = byName('GCRA');
    const policy = policyOf(truth.hints);
    const spec = throttleCheck.select(policy)[0]!.spec;
    const { observations, notes } = probeAgainst(truth, 3);
    // The client sent the 2.7× overload at a third of its rate.
    const slowed = observations.map((o) => {
      if (o.probe !== `${IDENTIFY_PROBE_PREFIX}overload-2.7x`) return o;
      const first = observations.find((x) => x.probe === o.probe)!.sentAtMs;
      const at = first + (o.sentAtMs - first) * 3;
      return { ...o, sentAtMs: at, doneAtMs: at + 1 };
    });
    const verdict = throttleCheck.evaluate(spec, { observations: slowed, notes }, policy);
    expect(verdict.status, verdict.summary).toBe('inconclusive');
    expect(verdict.summary).toMatch(/^client-bound/);
  });

  it('a key still refused at the last idle check is no cold start: inconclusive; an accepted check counts as idle', () => {
    const truth = byName('GCRA');
    const policy = policyOf(truth.hints);
    const spec = throttleCheck.select(policy)[0]!.spec;
    const { observations, notes } = probeAgainst(truth, 3);
    const first = observations[0]!.sentAtMs;
    const check = (sentAtMs: number, status: number): Observation => ({
      ...observations[0]!,
      probe: `${IDENTIFY_PROBE_PREFIX}idle-check`,
      intendedAtMs: sentAtMs,
      sentAtMs,
      doneAtMs: sentAtMs + 1,
      status,
    });
    const held = throttleCheck.evaluate(
      spec,
      { observations: [check(first - 6000, 429), check(first - 3000, 429), ...observations], notes },
      policy,
    );
    expect(held.status).toBe('inconclusive');
    expect(held.summary).toMatch(/still refused after 2 waits/);
    // Refused once, then accepted: the replay starts at the accepted check (a key idle from then on).
    const idle = throttleCheck.evaluate(
      spec,
      { observations: [check(first - 6000, 429), check(first - 3000, 200), ...observations.map((o) => ({ ...o }))], notes },
      policy,
    );
    expect(idle.status, idle.summary).not.toBe('inconclusive');
  });

  it('a Retry-After far longer than the key actually refused: headers-disagree (medium)', () => {
    const truth = byName('GCRA');
    const policy = policyOf(truth.hints);
    const spec = throttleCheck.select(policy)[0]!.spec;
    const { observations, notes } = probeAgainst(truth, 3);
    const announce = (seconds: string) => observations.map((o) => (o.status === 429 ? { ...o, headers: { 'retry-after': seconds } } : o));
    const overstated = throttleCheck.evaluate(spec, { observations: announce('30'), notes }, policy);
    expect(overstated.findings.find((f) => f.id === 'headers-disagree')?.title).toMatch(/Retry-After asked for 30 s/);
    const honest = throttleCheck.evaluate(spec, { observations: announce('1'), notes }, policy);
    expect(honest.findings.map((f) => f.id)).not.toContain('headers-disagree');
  });

  it('is pure: the same observations give the same verdict', () => {
    const truth = byName('express');
    expect(JSON.stringify(judge(truth, truth.hints).verdict)).toBe(JSON.stringify(judge(truth, truth.hints).verdict));
  });
});

describe('throttle check on the older probe (export k6, recordings)', () => {
  it('still fits a token bucket to throttle.volley / throttle.paced', () => {
    const policy = policyOf({ rateLimit: 50, burstLimit: 10 });
    const spec = throttleCheck.select(policy)[0]!.spec;
    const times = [...Array.from({ length: 21 }, (_, i) => i * 0.05), ...Array.from({ length: 200 }, (_, i) => 10 + i * 10)];
    const accepted = simulateBucket(times, 50, 10);
    const observations = times.map((t, i): Observation => ({
      probe: i < 21 ? 'throttle.volley' : 'throttle.paced',
      method: 'GET',
      path: '/api/items',
      intendedAtMs: t,
      sentAtMs: t,
      doneAtMs: t + 1,
      status: accepted[i] ? 200 : 429,
      headers: {},
    }));
    const notes: ThrottleNotes = { paced: { sent: 200, dropped: 0, maxSendLagMs: 1, offered: OFFERED } };
    const verdict = throttleCheck.evaluate(spec, { observations, notes }, policy);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect((verdict.observed as BucketObserved).ratePerSec).toBeCloseTo(50, 0);
    expect(verdict.findings.map((f) => f.id)).toEqual(['bucket-measured']);
  });
});

describe('the envelope series for the report chart (cumulative accepted, refusals, the model)', () => {
  const monotone = (values: readonly number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]!);

  it('is the probe in send order, cumulative and monotone, with every refusal counted and the model beside it', () => {
    const truth = byName('GCRA');
    const { verdict, observed } = judge(truth, truth.hints);
    const envelope = observed.envelope!;
    expect(envelope, verdict.summary).not.toBeNull();
    expect(envelope.sent).toBe(observed.requests.sent);
    expect(envelope.tMs.length).toBeLessThanOrEqual(ENVELOPE_MAX_POINTS);
    expect(envelope.tMs[0]).toBe(0);
    expect(monotone(envelope.tMs)).toBe(true);
    expect(monotone(envelope.accepted)).toBe(true);
    expect(envelope.accepted.at(-1)).toBe(observed.requests.accepted);
    expect(envelope.refused).toBe(observed.requests.refused);
    expect(envelope.refusals.length).toBe(Math.min(envelope.refused, ENVELOPE_MAX_POINTS));
    expect(envelope.model).toBe(observed.variant);
    const predicted = envelope.predicted!;
    expect(predicted).toHaveLength(envelope.tMs.length);
    expect(monotone(predicted)).toBe(true);
    // The identified model, run from cold over the same sends, ends near what the gateway accepted.
    const last = observed.requests.accepted;
    expect(Math.abs(predicted.at(-1)! - last)).toBeLessThanOrEqual(Math.max(5, 0.1 * last));
  });

  it('is bounded: a long probe is thinned to at most ENVELOPE_MAX_POINTS points, its counts exact', () => {
    const policy = policyOf({ rateLimit: 50, burstLimit: 20 });
    const spec = throttleCheck.select(policy)[0]!.spec;
    const observations = Array.from({ length: 2500 }, (_, i): Observation => ({
      probe: `${IDENTIFY_PROBE_PREFIX}overload-1.4x`,
      method: 'GET',
      path: '/api/items',
      intendedAtMs: i * 10,
      sentAtMs: i * 10 + 0.4,
      doneAtMs: i * 10 + 5,
      status: i % 3 === 2 ? 429 : 200,
      headers: {},
    }));
    // Without the run's notes the verdict is an error; the series is still there (no model: none was fitted).
    const verdict = throttleCheck.evaluate(spec, { observations, notes: {} }, policy);
    const envelope = (verdict.observed as IdentifiedObserved).envelope!;
    expect(envelope.sent).toBe(2500);
    expect(envelope.tMs).toHaveLength(ENVELOPE_MAX_POINTS);
    expect(envelope.accepted).toHaveLength(ENVELOPE_MAX_POINTS);
    expect(envelope.tMs.at(-1)).toBe(24_990);
    expect(envelope.accepted.at(-1)).toBe(1667);
    expect(monotone(envelope.accepted)).toBe(true);
    expect(envelope.refused).toBe(833);
    expect(envelope.refusals).toHaveLength(ENVELOPE_MAX_POINTS);
    expect(envelope.refusals[0]).toEqual([20, 2]);
    expect(envelope.predicted).toBeNull();
    expect(JSON.parse(JSON.stringify(envelope))).toEqual(envelope);
  });
});
