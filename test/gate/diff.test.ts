import { describe, expect, it } from 'vitest';
import type { CheckStatus, Finding, Severity } from '../../src/checks/types.js';
import { baselineRecord, diffFindings, findingIds, gatesAt, type FindingsSource } from '../../src/gate/diff.js';
import { applyGate } from '../../src/gate/gate.js';
import { withGate } from '../../src/report/model.js';
import { checkResult, runReport } from '../support/report-fixture.js';

const f = (check: string, slug: string, severity: Severity, extra: Partial<Finding> = {}): Finding => ({
  id: `${check}#${slug}`,
  severity,
  title: `${slug} title`,
  detail: `${slug} detail`,
  evidence: [],
  ...extra,
});
const CORS = 'cors:GET /api/items';
const WAF = 'waf:GET /api/items';
const source = (...checks: Array<[string, CheckStatus, Finding[]]>): FindingsSource => ({
  checks: checks.map(([id, status, findings]) => ({ id, status, findings })),
});
const ids = (entries: Array<{ id: string }>) => entries.map((e) => e.id);

describe('diffFindings', () => {
  it('sorts findings into new, fixed and unchanged by id', () => {
    const old = source([CORS, 'fail', [f(CORS, 'reflect', 'high'), f(CORS, 'no-cors-on-401', 'low')]]);
    const next = source([CORS, 'pass', [f(CORS, 'no-cors-on-401', 'low'), f(CORS, 'max-age', 'low')]]);
    const diff = diffFindings(old, next);
    expect(ids(diff.new)).toEqual([`${CORS}#max-age`]);
    expect(ids(diff.fixed)).toEqual([`${CORS}#reflect`]);
    expect(ids(diff.unchanged)).toEqual([`${CORS}#no-cors-on-401`]);
    expect(diff.unverified).toEqual([]);
  });

  it('lists each group most severe first, then by id', () => {
    const next = source(
      [WAF, 'fail', [f(WAF, 'b', 'low'), f(WAF, 'a', 'low'), f(WAF, 'learned', 'info'), f(WAF, 'baseline:sqli', 'critical')]],
      [CORS, 'fail', [f(CORS, 'reflect', 'high'), f(CORS, 'z', 'medium')]],
    );
    const diff = diffFindings({ checks: [] }, next);
    expect(diff.new.map((e) => `${e.severity} ${e.id}`)).toEqual([
      `critical ${WAF}#baseline:sqli`,
      `high ${CORS}#reflect`,
      `medium ${CORS}#z`,
      `low ${WAF}#a`,
      `low ${WAF}#b`,
      `info ${WAF}#learned`,
    ]);
  });

  it('a report against itself: everything unchanged, nothing new or fixed', () => {
    const report = source([CORS, 'fail', [f(CORS, 'reflect', 'high')]], [WAF, 'pass', [f(WAF, 'miss:ssti', 'low')]]);
    const diff = diffFindings(report, report);
    expect(diff.new).toEqual([]);
    expect(diff.fixed).toEqual([]);
    expect(ids(diff.unchanged)).toEqual([`${CORS}#reflect`, `${WAF}#miss:ssti`]);
  });

  it('an old finding whose check did not decide (or did not run) is not rechecked, never fixed', () => {
    const old = source(
      [CORS, 'fail', [f(CORS, 'reflect', 'high')]],
      [WAF, 'pass', [f(WAF, 'miss:ssti', 'low')]],
      ['auth:GET /api/items', 'fail', [f('auth:GET /api/items', 'bypass:missing', 'critical')]],
    );
    const next = source([CORS, 'error', []], [WAF, 'inconclusive', []]);
    const diff = diffFindings(old, next);
    expect(diff.fixed).toEqual([]);
    expect(ids(diff.unverified)).toEqual([`auth:GET /api/items#bypass:missing`, `${CORS}#reflect`, `${WAF}#miss:ssti`]);
  });

  it('a new report from before findings (1.0, ungraded) fixes nothing', () => {
    const old = source([CORS, 'fail', [f(CORS, 'reflect', 'high')]]);
    const diff = diffFindings(old, { ...source([CORS, 'pass', []]), ungraded: true });
    expect(ids(diff.unverified)).toEqual([`${CORS}#reflect`]);
    expect(diff.fixed).toEqual([]);
  });

  it('a check without findings (schemaVersion 1.0) counts as none', () => {
    const diff = diffFindings({ checks: [{ id: CORS, status: 'fail' }] }, source([CORS, 'fail', [f(CORS, 'reflect', 'high')]]));
    expect(ids(diff.new)).toEqual([`${CORS}#reflect`]);
  });

  it('an unchanged finding whose severity moved keeps the old severity beside the new one', () => {
    const diff = diffFindings(source([CORS, 'pass', [f(CORS, 'x', 'low')]]), source([CORS, 'fail', [f(CORS, 'x', 'high')]]));
    expect(diff.unchanged).toEqual([expect.objectContaining({ severity: 'high', previousSeverity: 'low' })]);
  });

  it('keeps what the gate needs: check, explicit, disposition', () => {
    const next = source([CORS, 'fail', [f(CORS, 'slo', 'medium', { explicit: true, disposition: 'gating' })]]);
    expect(diffFindings({ checks: [] }, next).new[0]).toEqual({
      id: `${CORS}#slo`,
      check: CORS,
      severity: 'medium',
      title: 'slo title',
      explicit: true,
      disposition: 'gating',
    });
  });
});

describe('gatesAt: a new finding against the gate', () => {
  const entry = (severity: Severity, extra: { explicit?: boolean; disposition?: Finding['disposition'] } = {}) => ({
    id: 'x',
    check: CORS,
    severity,
    title: 't',
    ...extra,
  });
  it.each([
    ['high', 'high', {}, true],
    ['critical', 'high', {}, true],
    ['medium', 'high', {}, false],
    ['medium', 'medium', {}, true],
    ['low', 'high', { explicit: true }, true],
    ['info', 'low', {}, false],
    ['info', 'low', { explicit: true }, false],
    ['critical', 'high', { disposition: 'accepted' }, false],
    ['high', 'high', { disposition: 'baseline' }, true],
  ] as const)('%s at --fail-on %s %o → %s', (severity, failOn, extra, expected) => {
    expect(gatesAt(entry(severity, extra), failOn)).toBe(expected);
  });
});

describe('a run with a baseline (withGate)', () => {
  const baselineReport = source([CORS, 'fail', [f(CORS, 'reflect', 'high')]], [WAF, 'pass', [f(WAF, 'miss:ssti', 'low')]]);
  const baseline = { file: 'old/report.json', report: baselineReport };
  const options = { failOn: 'high' as const, today: '2026-11-30', baselineIds: findingIds(baselineReport), baseline };

  it('the same findings again: nothing gates, report.json records them unchanged', () => {
    const checks = [
      checkResult('cors', 'fail', { findings: [f(CORS, 'reflect', 'high')] }),
      checkResult('waf', 'pass', { findings: [f(WAF, 'miss:ssti', 'low')] }),
    ];
    const report = withGate(runReport(checks), options);
    expect(report.verdict).toBe('pass');
    expect(report.checks[0]!.findings[0]!.disposition).toBe('baseline');
    expect(report.baseline).toEqual({
      file: 'old/report.json',
      new: [],
      fixed: [],
      unchanged: [`${CORS}#reflect`, `${WAF}#miss:ssti`],
      unverified: [],
    });
  });

  it('a new high finding gates; a gone one is fixed', () => {
    const checks = [
      checkResult('cors', 'fail', { findings: [f(CORS, 'star', 'high')] }),
      checkResult('waf', 'pass', { findings: [f(WAF, 'miss:ssti', 'low')] }),
    ];
    const report = withGate(runReport(checks), options);
    expect(report.verdict).toBe('fail');
    expect(report.baseline).toMatchObject({ new: [`${CORS}#star`], fixed: [`${CORS}#reflect`], unchanged: [`${WAF}#miss:ssti`] });
  });

  it('without a baseline the report has no baseline field', () => {
    const report = withGate(runReport([checkResult('cors', 'pass')]), { failOn: 'high', today: '2026-11-30' });
    expect(report).not.toHaveProperty('baseline');
  });

  it('baselineRecord keeps the diff order', () => {
    const { checks } = applyGate([checkResult('cors', 'fail', { findings: [f(CORS, 'a', 'low'), f(CORS, 'b', 'high')] })], options);
    expect(baselineRecord('b.json', diffFindings({ checks: [] }, { checks })).new).toEqual([`${CORS}#b`, `${CORS}#a`]);
  });
});
