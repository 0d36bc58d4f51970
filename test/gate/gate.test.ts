import { describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/checks/types.js';
import { applyGate, atOrAbove } from '../../src/gate/gate.js';
import { checkResult } from '../support/report-fixture.js';

const f = (slug: string, severity: Severity, extra: Partial<Finding> = {}): Finding => ({
  id: `cors:GET /api/items#${slug}`,
  severity,
  title: `${slug} title`,
  detail: `${slug} detail`,
  evidence: [],
  ...extra,
});
const today = '2026-11-30';

describe('the release gate', () => {
  it('orders severities: critical ≥ high ≥ medium ≥ low, info never gates', () => {
    expect(atOrAbove('critical', 'high')).toBe(true);
    expect(atOrAbove('medium', 'high')).toBe(false);
    expect(atOrAbove('low', 'low')).toBe(true);
    expect(atOrAbove('info', 'low')).toBe(false);
  });

  it('a fail whose findings are all below the gate passes and lists them ("pass · 1 low")', () => {
    const check = checkResult('cors', 'fail', { findings: [f('no-cors-on-401', 'low')] });
    const { checks, gate } = applyGate([check], { failOn: 'high', today });
    expect(checks[0]!.status).toBe('pass');
    expect(checks[0]!.summary).toBe('pass · 1 low: no-cors-on-401 title');
    expect(checks[0]!.findings[0]!.disposition).toBe('below-gate');
    expect(gate).toMatchObject({ failOn: 'high', gating: 0, counts: { low: 1 } });
  });

  it('the same check fails at --fail-on low', () => {
    const check = checkResult('cors', 'fail', { findings: [f('no-cors-on-401', 'low')] });
    const { checks, gate } = applyGate([check], { failOn: 'low', today });
    expect(checks[0]!.status).toBe('fail');
    expect(gate.gating).toBe(1);
  });

  it('a pass with a finding at the gate fails, and says it is the gate that failed it', () => {
    const check = checkResult('waf', 'pass', { summary: 'baseline blocked', findings: [f('miss', 'low')] });
    const { checks } = applyGate([check], { failOn: 'low', today });
    expect(checks[0]!.status).toBe('fail');
    expect(checks[0]!.summary).toBe('fails the gate (low): miss title');
  });

  it('a finding that breaches an explicit policy threshold gates at any level', () => {
    const check = checkResult('slo', 'fail', { findings: [f('p99', 'medium', { explicit: true })] });
    expect(applyGate([check], { failOn: 'critical', today }).checks[0]!.status).toBe('fail');
  });

  it('a fail without findings stays a fail (never a false pass)', () => {
    const check = checkResult('auth', 'fail', { summary: 'got through' });
    const { checks } = applyGate([check], { failOn: 'critical', today });
    expect(checks[0]!.status).toBe('fail');
    expect(checks[0]!.findings).toEqual([expect.objectContaining({ id: 'auth:GET /api/items#fail', severity: 'high' })]);
  });

  it('error and inconclusive stand unless a finding gates (a finding is proof)', () => {
    const inconclusive = checkResult('throttle', 'inconclusive', { findings: [f('info', 'info')] });
    const proven = checkResult('cors', 'error', { findings: [f('reflected', 'critical')] });
    const { checks } = applyGate([inconclusive, proven], { failOn: 'high', today });
    expect(checks.map((c) => c.status)).toEqual(['inconclusive', 'fail']);
  });

  it('accepted findings do not gate until they expire; expired and unknown entries are reported', () => {
    const check = checkResult('cors', 'fail', { findings: [f('reflected', 'critical')] });
    const entry = { id: 'cors:GET /api/items#reflected', reason: 'fix in 1.2', expires: '2026-12-31' };
    const live = applyGate([check], { failOn: 'high', today, accepted: [entry, { ...entry, id: 'x#y' }] });
    expect(live.checks[0]!.status).toBe('pass');
    expect(live.checks[0]!.findings[0]).toMatchObject({ disposition: 'accepted', accepted: { reason: 'fix in 1.2' } });
    expect(live.gate.accepted).toEqual([entry]);
    expect(live.gate.acceptProblems).toEqual([{ id: 'x#y', problem: 'unknown', expires: '2026-12-31' }]);
    const expired = applyGate([check], { failOn: 'high', today: '2027-01-01', accepted: [entry] });
    expect(expired.checks[0]!.status).toBe('fail');
    expect(expired.gate.acceptProblems).toEqual([{ id: entry.id, problem: 'expired', expires: '2026-12-31' }]);
  });

  it('findings already in the baseline do not gate', () => {
    const check = checkResult('cors', 'fail', { findings: [f('reflected', 'critical')] });
    const { checks } = applyGate([check], { failOn: 'high', today, baselineIds: new Set(['cors:GET /api/items#reflected']) });
    expect(checks[0]!.status).toBe('pass');
    expect(checks[0]!.summary).toBe('pass · 1 in baseline: reflected title');
  });
});
