import { describe, expect, it } from 'vitest';
import { evaluateSlo, type SloMeasurement } from '../../src/checks/slo/check.js';
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
