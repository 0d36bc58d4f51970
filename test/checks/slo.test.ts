import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { qualifyFindings } from '../../src/checks/findings.js';
import { evaluateSlo, sloCheck, type SloMeasurement, type SloNotes } from '../../src/checks/slo/check.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { Observation } from '../../src/engine/observation.js';
import type { OfferedLoad } from '../../src/engine/paced-run.js';
import { applyGate, type GateLevel } from '../../src/gate/gate.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { SloPolicy } from '../../src/policy/types.js';

const slo = { p99Ms: 250, maxErrorRate: 0.01, durationSec: 3 } as SloPolicy;
const measured = (over: Partial<SloMeasurement>): SloMeasurement => ({ sent: 100, ok: 100, failed: 0, transportErrors: 0, ...over });

describe('evaluateSlo: a busy client never fails a gateway on latency', () => {
  it.each([
    ['p99 under the objective passes whatever the client did', { p99Ms: 120, clientDelayMs: 400 }, 'pass'],
    ['a breach that stays over after the client delay fails', { p99Ms: 900, service: { p99Ms: 880 }, clientDelayMs: 40 }, 'fail'],
    ['a breach the client delay can explain is inconclusive', { p99Ms: 300, service: { p99Ms: 280 }, clientDelayMs: 60 }, 'inconclusive'],
    [
      'send lag alone (the actual send time is fine) is inconclusive',
      { p99Ms: 600, service: { p99Ms: 20 }, clientDelayMs: 0 },
      'inconclusive',
    ],
    [
      'an error rate over the objective fails even when the client was late',
      { p99Ms: 300, service: { p99Ms: 280 }, clientDelayMs: 60, failed: 5 },
      'fail',
    ],
  ] as const)('%s', (_name, over, status) => {
    const verdict = evaluateSlo(measured(over), slo);
    expect(verdict.status, verdict.summary).toBe(status);
    if (status === 'inconclusive') expect(verdict.summary).toMatch(/client-bound/);
  });

  it('nothing answered normally is an error, never a pass', () => {
    expect(evaluateSlo(measured({ ok: 0, failed: 100, transportErrors: 100 }), slo).status).toBe('error');
  });
});

describe('sloCheck.evaluate: findings', () => {
  const policy = parsePolicy(
    stringify({ version: 1, routes: [{ method: 'GET', path: '/r', slo: { p99Ms: 250, maxErrorRate: 0.01, durationSec: 3 } }] }),
    'p.yaml',
    { env: {} },
  );
  const spec = sloCheck.select(policy)[0]!.spec;
  const offered: OfferedLoad = { ratePerSec: 20, windowRatePerSec: { min: 20, median: 20, max: 20 }, loopDelayMs: { p99: 1, max: 2 } };
  const notes: SloNotes = { offered, maxSendLagMs: 1, dropped: 0 };
  /** `count` requests 50 ms apart, each answered after `latencyMs` (or failing with `status`). */
  const load = (count: number, latencyMs: (i: number) => number, status: (i: number) => number = () => 200): Observation[] =>
    Array.from({ length: count }, (_, i) => ({
      probe: 'slo',
      method: 'GET',
      path: '/r',
      intendedAtMs: i * 50,
      sentAtMs: i * 50,
      doneAtMs: i * 50 + latencyMs(i),
      headers: {},
      status: status(i),
    }));
  const evaluate = (observations: Observation[]) => sloCheck.evaluate(spec, { observations, notes }, policy);
  const gated = (verdict: ReturnType<typeof evaluate>, failOn: GateLevel) => {
    const id = 'slo:GET /r';
    const check: CheckResult = {
      id,
      kind: 'slo',
      route: 'GET /r',
      ...verdict,
      observed: {},
      expected: {},
      findings: qualifyFindings(id, verdict),
      durationMs: 0,
      requestsSent: 0,
    };
    return applyGate([check], { failOn, today: '2026-01-01' }).checks[0]!;
  };

  it('a p99 over the objective is a medium explicit finding that fails the check at any gate', () => {
    const verdict = evaluate(load(60, () => 900));
    expect(verdict.status).toBe('fail');
    expect(verdict.findings.map((f) => [f.id, f.severity, f.explicit])).toEqual([['breach:p99', 'medium', true]]);
    expect(verdict.findings[0]!.title).toBe("p99 latency above the policy's slo of 250 ms");
    expect(verdict.findings[0]!.detail).toMatch(/^p99 9\d\d\.\d ms > 250 ms, over 60 requests/);
    expect(verdict.findings[0]!.evidence.map((i) => verdict.evidence[i]!.label)).toEqual(['slowest normal answer']);
    expect(gated(verdict, 'critical').status).toBe('fail');
  });

  it('an error rate over the objective is its own finding, pointing at the first failed request; ids stable', () => {
    const failing = evaluate(
      load(
        60,
        () => 10,
        (i) => (i % 10 === 0 ? 503 : 200),
      ),
    );
    expect(failing.findings.map((f) => [f.id, f.severity, f.explicit])).toEqual([['breach:error-rate', 'medium', true]]);
    expect(failing.findings[0]!.evidence.map((i) => failing.evidence[i]!.label)).toEqual(['first failed request']);
    const worse = evaluate(
      load(
        60,
        () => 10,
        (i) => (i % 5 === 0 ? 503 : 200),
      ),
    );
    expect(worse.findings.map((f) => f.id)).toEqual(failing.findings.map((f) => f.id));
  });

  it('met objectives and an undecided breach have no finding', () => {
    const met = evaluate(load(60, () => 20));
    expect([met.status, met.findings]).toEqual(['pass', []]);
    const late = sloCheck.evaluate(
      spec,
      { observations: load(60, () => 300), notes: { ...notes, offered: { ...offered, loopDelayMs: { p99: 100, max: 200 } } } },
      policy,
    );
    expect([late.status, late.findings]).toEqual(['inconclusive', []]);
  });
});
