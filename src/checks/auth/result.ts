/**
 * A credential matrix's notes and observations as a check result, shared by the auth and sigv4 checks: the
 * answer each probe got (a throttle status on the last attempt is "throttled out", by the route's
 * `throttle.status`), the evidence per probe (an unsent one as planned) and the answers by probe.
 */
import type { Observation } from '../../engine/observation.js';
import { isThrottled } from '../../engine/throttle-model.js';
import type { Policy } from '../../policy/types.js';
import { describeAnswer } from '../context.js';
import type { Verdict } from '../contract.js';
import { evidenceFrom, evidenceUnsent } from '../evidence.js';
import type { AuthObservation, AuthProbeNote, AuthVerdict } from './evaluate.js';

export interface AuthObserved {
  /** The positive control's answer. */
  control: string;
  /** `label → status` of every variant that got the backend's normal answer. */
  bypasses: string[];
  /** Refused, but not with a refuseStatus. */
  wrongRefusals: string[];
  /** No usable answer (5xx, transport error, 429 on every retry, not sent, a redirect under AWS). */
  unresolved: string[];
  /** probe → answer, control included. */
  answers: Record<string, string>;
}

export const NOTHING_OBSERVED: AuthObserved = { control: 'not sent', bypasses: [], wrongRefusals: [], unresolved: [], answers: {} };

/**
 * Each probe's answer as the check reads it: the last attempt (sendProbe retries a 429 and stops
 * at the first other answer), throttled out when even that was a throttle status; no observation: not sent.
 */
export function answerOf(note: AuthProbeNote, attempts: Map<string, Observation>, throttled: readonly number[]): AuthObservation {
  const observation = attempts.get(note.probe);
  return {
    variant: note,
    throttledOut: observation !== undefined && isThrottled(observation, throttled),
    ...(observation ? { observation } : {}),
  };
}

/** The verdict with its evidence and observed answers; `planned` gives an unsent probe's request. */
export function matrixResult(
  policy: Policy,
  verdict: AuthVerdict,
  all: readonly AuthObservation[],
  planned: (probe: string) => { probe: string; method: string; path: string },
): Verdict<AuthObserved> {
  const evidence = all.map((a) => {
    const outcome = verdict.outcomes.get(a) ?? 'info';
    const note = verdict.notes.get(a);
    return a.observation
      ? evidenceFrom(policy, a.observation, a.variant.label, outcome, note)
      : evidenceUnsent(policy, planned(a.variant.probe), a.variant.label, outcome, note);
  });
  const observed: AuthObserved = {
    control: describeAnswer(all[0]?.observation),
    bypasses: verdict.bypasses,
    wrongRefusals: verdict.wrongRefusals,
    unresolved: verdict.unresolved,
    answers: Object.fromEntries(all.map((a) => [a.variant.probe, a.throttledOut ? '429 on every retry' : describeAnswer(a.observation)])),
  };
  return { status: verdict.status, summary: verdict.summary, observed, evidence, findings: verdict.findings };
}
