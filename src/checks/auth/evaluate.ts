/**
 * The auth verdict (kind `auth`, see check.ts): the positive control, then the bypass matrix of
 * variants.ts judged by group, with the vendor profiles of vendor.ts reading refusals and
 * redirects. Pure. See docs/security-checks.md.
 */
import type { Observation } from '../../engine/observation.js';
import type { Vendor } from '../../policy/types.js';
import { describeAnswer, isUnresolved } from '../context.js';
import type { FindingDraft } from '../contract.js';
import { finding, slugPart } from '../findings.js';
import type { CheckStatus, EvidenceItem } from '../types.js';
import type { AuthVariant } from './variants.js';
import { readRedirect, readRefusal } from './vendor.js';

/** What evaluate needs of a variant: which probe, what it is called, how it is judged. */
export type AuthProbeNote = Pick<AuthVariant, 'probe' | 'label' | 'group'>;

export interface AuthObservation {
  variant: AuthProbeNote;
  observation?: Observation;
  /** Every attempt was a 429: the answer says nothing about auth. */
  throttledOut: boolean;
}

export interface AuthRules {
  refuseStatus: readonly number[];
  /** The backend's normal answer on this route. */
  isOk: (status: number) => boolean;
  vendor: Vendor;
}

export interface AuthVerdict {
  status: CheckStatus;
  summary: string;
  /** `label → status` of every variant that got the backend's normal answer. */
  bypasses: string[];
  wrongRefusals: string[];
  unresolved: string[];
  outcomes: Map<AuthObservation, EvidenceItem['outcome']>;
  notes: Map<AuthObservation, string>;
  /** Graded (authFinding): evidence indexes count the control as 0, then the variants in order, as check.ts lays them out. */
  findings: FindingDraft[];
}

/**
 * What a variant's answer means (docs/findings.md):
 * - the backend's normal answer without a valid credential is a way past auth: `critical`,
 *   whatever the body says (a 200 whose body reads "error" is still the backend answering);
 * - a 2xx that is not the route's normal answer (okStatus names others) is `high`: a success
 *   status for a bad credential cannot be told from a bypass from outside;
 * - a refusal with another status than refuseStatus (404 for 401) is `medium`: nothing got
 *   through, but clients, SDK retries and monitors key on the status the policy promises;
 * - a 5xx, a reset or 429s on every retry say nothing about auth: unresolved (error), no finding.
 */
export function authFinding(v: AuthObservation, index: number, refuseStatus: readonly number[], bypass: boolean): FindingDraft {
  const status = v.observation!.status!;
  const slug = slugPart(v.variant.probe.replace(/^(auth|sigv4)\./, ''));
  const expected = refuseStatus.join('/');
  if (bypass) {
    const title = `${v.variant.label} got through: ${status}, the backend's normal answer`;
    return finding(`bypass:${slug}`, 'critical', title, `the backend answered without a valid credential (expected ${expected})`, [index]);
  }
  if (status >= 200 && status < 300) {
    const title = `${v.variant.label} answered ${status}, a success status that is not the route's normal answer`;
    const detail = `expected a refusal (${expected}); a 2xx cannot be told from a bypass`;
    return finding(`success-status:${slug}`, 'high', title, detail, [index]);
  }
  const title = `${v.variant.label} refused with ${status}, not ${expected}`;
  const detail = `not a bypass, but clients and monitors key on the refusal status the policy states (refuseStatus ${expected})`;
  return finding(`wrong-refusal:${slug}`, 'medium', title, detail, [index]);
}

function unresolvedWhy(o: AuthObservation): string | undefined {
  if (o.throttledOut) return '429 on every retry';
  if (!o.observation) return 'not sent (run cap reached)';
  return isUnresolved(o.observation) ? describeAnswer(o.observation) : undefined;
}

/**
 * Pure evaluation. The control must get the backend's normal answer, or nothing else can be read
 * (a gateway refusing everyone would otherwise pass). Then, by group:
 * - credential variants must get a refuseStatus; the normal answer is a bypass, anything else a
 *   refusal of the wrong kind (fail too: clients and monitors key on the status);
 * - routing variants (no credential, path spelt differently, method override) fail only on the
 *   normal answer or a 2xx: a 403/404/405 for a path or method the gateway does not route is fine;
 * - case-control variants never fail: acceptance is expected, a refusal is noted.
 * - a 3xx (never followed) is a refusal under vendor plain and unresolved under the AWS vendors
 *   (vendor.ts, readRedirect); the control's 3xx is not the backend's answer.
 * 5xx, transport errors and 429s on every retry are unresolved: error unless a bypass was seen (a
 * wrong refusal beside them is an error with its finding: the gate fails it when the finding gates).
 */
export function evaluateAuth(control: AuthObservation, variants: AuthObservation[], rules: AuthRules): AuthVerdict {
  const outcomes = new Map<AuthObservation, EvidenceItem['outcome']>();
  const notes = new Map<AuthObservation, string>();
  const empty = { bypasses: [], wrongRefusals: [], unresolved: [], outcomes, notes, findings: [] };
  const controlObs = control.observation;
  const controlProblem = unresolvedWhy(control);
  if (controlProblem !== undefined || !controlObs || !rules.isOk(controlObs.status!)) {
    outcomes.set(control, 'unresolved');
    // A redirect is not the backend's answer either: the valid credential did not reach it.
    const reading = readRefusal(rules.vendor, controlObs) ?? readRedirect(rules.vendor, controlObs);
    if (reading) notes.set(control, reading.note);
    const got = control.throttledOut
      ? 'was throttled (429) on every retry'
      : !controlObs
        ? 'was not sent (run cap reached)'
        : `got ${describeAnswer(controlObs)}${reading ? ` (${reading.note})` : ''}`;
    return {
      status: 'error',
      summary: `positive control failed: the valid credential ${got}, not the backend's normal answer, so refusals prove nothing`,
      ...empty,
    };
  }
  outcomes.set(control, 'ok');

  const bypasses: string[] = [];
  const wrongRefusals: string[] = [];
  const unresolved: string[] = [];
  const findings: FindingDraft[] = [];
  const caseRefused: string[] = [];
  // Said once in the summary, not once per redirected variant.
  let redirectWhy: string | undefined;
  for (const [i, v] of variants.entries()) {
    const why = unresolvedWhy(v);
    const status = v.observation?.status;
    const reading = readRefusal(rules.vendor, v.observation);
    const redirect = readRedirect(rules.vendor, v.observation);
    const note = reading?.note ?? redirect?.note;
    if (note !== undefined) notes.set(v, note);
    if (v.variant.group === 'case-control') {
      if (why !== undefined || redirect) {
        outcomes.set(v, 'info');
        notes.set(v, `no usable answer (${why ?? redirect!.note}); not counted`);
      } else if (rules.refuseStatus.includes(status!)) {
        outcomes.set(v, 'info');
        caseRefused.push(v.variant.label);
        notes.set(v, `refused: the gateway compares header names case-sensitively (RFC 9110 says they are not); not a bypass`);
      } else {
        outcomes.set(v, 'ok');
        notes.set(v, 'accepted: header names are case-insensitive, so this is expected and not a bypass');
      }
      continue;
    }
    if (why !== undefined) {
      outcomes.set(v, 'unresolved');
      unresolved.push(`${v.variant.label} → ${why}`);
      continue;
    }
    const isNormal = rules.isOk(status!) || (v.variant.group === 'routing' && status! >= 200 && status! < 300);
    if (isNormal) {
      outcomes.set(v, 'violation');
      notes.set(v, 'BYPASS: the backend answered without a valid credential');
      bypasses.push(`${v.variant.label} → ${status}`);
      findings.push(authFinding(v, i + 1, rules.refuseStatus, true));
    } else if (redirect && !redirect.refusal) {
      outcomes.set(v, 'unresolved');
      unresolved.push(`${v.variant.label} → ${redirect.answer}`);
      redirectWhy = redirect.why;
    } else if (redirect || v.variant.group === 'routing' || rules.refuseStatus.includes(status!)) {
      outcomes.set(v, 'ok');
      const notRouted = v.variant.group === 'routing' && !rules.refuseStatus.includes(status!);
      if (note === undefined && notRouted) notes.set(v, `${status}: not routed to the backend`);
    } else {
      outcomes.set(v, 'violation');
      wrongRefusals.push(`${v.variant.label} → ${status} (expected ${rules.refuseStatus.join('/')})`);
      findings.push(authFinding(v, i + 1, rules.refuseStatus, false));
    }
  }
  const rest = { bypasses, wrongRefusals, unresolved, outcomes, notes, findings };
  const caseNote = caseRefused.length
    ? `; note: refused under a differently cased header name (${caseRefused.length}), which HTTP does not allow but is no bypass`
    : '';
  if (bypasses.length > 0)
    return {
      status: 'fail',
      summary: `${bypasses.length} variant(s) got through without a valid credential: ${bypasses.join('; ')}`,
      ...rest,
    };
  const redirects = redirectWhy ? ` (redirects: ${redirectWhy})` : '';
  const unobserved = `could not observe: ${unresolved.join('; ')}${redirects}`;
  const refusedWrongly = `not refused as required: ${wrongRefusals.join('; ')}`;
  // A wrong refusal is medium: under a gate above it the check must not pass what it could not observe.
  if (wrongRefusals.length > 0 && unresolved.length > 0) return { status: 'error', summary: `${refusedWrongly}; ${unobserved}`, ...rest };
  if (wrongRefusals.length > 0) return { status: 'fail', summary: refusedWrongly, ...rest };
  if (unresolved.length > 0) return { status: 'error', summary: unobserved, ...rest };
  const judged = variants.filter((v) => v.variant.group !== 'case-control').length;
  return {
    status: 'pass',
    summary: `all ${judged} bypass variants refused or not routed; valid credential accepted (${controlObs.status})${caseNote}`,
    ...rest,
  };
}
