/**
 * The --accept file: YAML (or JSON) validated against schemas/accept.schema.json, every problem
 * named by its field and line; then what the gate does with the entries.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AcceptFileError, loadAcceptFile, parseAcceptFile } from '../../src/gate/accept.js';
import { applyGate } from '../../src/gate/gate.js';
import { checkResult } from '../support/report-fixture.js';

const ID = 'cors:GET /api/items#no-cors-on-error:403';

/** The issues of a bad file as `path: message` (line) strings. */
function problems(text: string): string[] {
  try {
    parseAcceptFile(text, 'accept.yaml');
  } catch (error) {
    if (error instanceof AcceptFileError) return error.issues.map((i) => `${i.path}: ${i.message} (line ${i.line ?? '?'})`);
    throw error;
  }
  throw new Error('the file was accepted');
}

describe('parseAcceptFile', () => {
  it('reads a YAML file; an unquoted date stays the string it reads as', () => {
    const text = [
      'accepted:',
      `  - id: "${ID}"`,
      '    reason: the SPA treats a network error as "log in again" (TICKET-123)',
      '    expires: 2027-03-31',
      '',
    ].join('\n');
    expect(parseAcceptFile(text, 'accept.yaml')).toEqual([
      { id: ID, reason: 'the SPA treats a network error as "log in again" (TICKET-123)', expires: '2027-03-31' },
    ]);
  });

  it('reads JSON, and an empty list', () => {
    expect(parseAcceptFile(JSON.stringify({ accepted: [{ id: ID, reason: 'r', expires: '2027-01-01' }] }), 'a.json')).toHaveLength(1);
    expect(parseAcceptFile('accepted: []\n', 'a.yaml')).toEqual([]);
  });

  it.each<[string, string[], string[]]>([
    [
      'a misspelt field',
      [`  - id: "${ID}"`, '    reson: r', '    expires: 2027-03-31'],
      ['accepted[0].reson: unknown key: did you mean `reason`? (line 3)'],
    ],
    ['no expiry', [`  - id: "${ID}"`, '    reason: r'], ['accepted[0].expires: is required (line 2)']],
    [
      'an empty reason',
      [`  - id: "${ID}"`, '    reason: " "', '    expires: 2027-03-31'],
      [/^accepted\[0\]\.reason: has an invalid format/.source],
    ],
    [
      'an id that is no finding id',
      ['  - id: no-cors-on-error', '    reason: r', '    expires: 2027-03-31'],
      [/^accepted\[0\]\.id: has an invalid format .*\(line 2\)$/.source],
    ],
  ])('%s is named by its field and line', (_name, entry, expected) => {
    const found = problems(['accepted:', ...entry, ''].join('\n'));
    expect(found).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(found[i]).toMatch(e.startsWith('^') ? new RegExp(e) : new RegExp(`^${escape(e)}$`)));
  });

  it.each(['2027-02-30', '2027-3-31', '31/03/2027', 'next week', '2027-13-01'])('expires %s is no date', (expires) => {
    expect(problems(['accepted:', `  - id: "${ID}"`, '    reason: r', `    expires: "${expires}"`, ''].join('\n'))).toEqual([
      'accepted[0].expires: must be a date, YYYY-MM-DD (line 4)',
    ]);
  });

  it('lists every problem at once, and an id accepted twice', () => {
    const entry = (expires: string) => [`  - id: "${ID}"`, '    reason: r', `    expires: ${expires}`];
    expect(problems(['accepted:', ...entry('2027-03-31'), ...entry('2027-04-31'), ''].join('\n'))).toEqual([
      'accepted[1].expires: must be a date, YYYY-MM-DD (line 7)',
    ]);
    expect(problems(['accepted:', ...entry('2027-03-31'), ...entry('2027-04-30'), ''].join('\n'))).toEqual([
      `accepted[1].id: "${ID}" is already accepted by accepted[0] (line 5)`,
    ]);
  });

  it('names a file that is not YAML, or not a list of entries', () => {
    expect(problems('accepted: [\n')[0]).toMatch(/^: not valid YAML\/JSON/);
    expect(problems('- id: x\n')).toEqual([': must be a block of settings (accepted), not a list (line ?)']);
    expect(problems('accepted: {}\n')).toEqual(['accepted: must be a list: [a, b] or one "- item" per line (line 1)']);
  });

  it('loadAcceptFile names a file it cannot read', () => {
    expect(() => loadAcceptFile(join(tmpdir(), 'gatecheck-no-such-accept.yaml'), 'missing.yaml')).toThrow(
      /^missing\.yaml: cannot read the file \(ENOENT\)$/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-accept-')), 'accept.yaml');
    writeFileSync(file, `accepted:\n  - { id: "${ID}", reason: r, expires: 2027-03-31 }\n`);
    expect(loadAcceptFile(file)).toEqual([{ id: ID, reason: 'r', expires: '2027-03-31' }]);
  });
});

describe('the gate with accepted entries', () => {
  const low = checkResult('cors', 'fail', {
    findings: [{ id: ID, severity: 'low', title: '403 answers carry no usable CORS headers', detail: 'd', evidence: [] }],
  });
  const gate = (expires: string, today = '2027-03-31') =>
    applyGate([low], {
      failOn: 'low',
      today,
      accepted: [
        { id: ID, reason: 'known (TICKET-123)', expires },
        { id: 'cors:GET /x#gone', reason: 'r', expires },
      ],
    });

  it('an entry holds through its last day: listed with its reason, not gating; an unknown id is reported', () => {
    const { checks, gate: summary } = gate('2027-03-31');
    expect(checks[0]!.status).toBe('pass');
    expect(checks[0]!.findings[0]).toMatchObject({
      disposition: 'accepted',
      accepted: { reason: 'known (TICKET-123)', expires: '2027-03-31' },
    });
    expect(summary.accepted).toEqual([{ id: ID, reason: 'known (TICKET-123)', expires: '2027-03-31' }]);
    expect(summary.acceptProblems).toEqual([{ id: 'cors:GET /x#gone', problem: 'unknown', expires: '2027-03-31' }]);
  });

  it('the day after, the finding gates again and the entry is reported expired', () => {
    const { checks, gate: summary } = gate('2027-03-31', '2027-04-01');
    expect(checks[0]!.status).toBe('fail');
    expect(summary.accepted).toEqual([]);
    expect(summary.acceptProblems.map((p) => `${p.id} ${p.problem}`)).toEqual([`${ID} expired`, 'cors:GET /x#gone expired']);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
