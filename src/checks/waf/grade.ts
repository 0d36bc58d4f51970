/**
 * A GoTestWAF-style grade of the whole matrix. Pure.
 *
 * GoTestWAF (wallarm/gotestwaf, internal/report) scores a WAF by two rates over the answers it
 * could judge: the true-positive rate (attacks blocked) and the true-negative rate (benign requests
 * let through), averages them, and maps the percentage to a school letter: A+ from 97, A from 93,
 * A- from 90, B+ 87, B 83, B- 80, C+ 77, C 73, C- 70, D+ 67, D 63, D- 60, F below.
 * gatecheck does the same over its matrix (the baseline is a gate, not part of the grade):
 *
 *   truePositiveRate = blocked / (blocked + passed)            over the matrix's attacks
 *   trueNegativeRate = passed / (blocked + passed)             over the benign requests
 *   score            = 100 x (truePositiveRate + trueNegativeRate) / 2
 *
 * Unresolved answers are in neither rate, as in GoTestWAF.
 */
import type { Counts } from './evaluate.js';

export interface WafGrade {
  /** Attacks blocked / judged, 0..1 (3 decimals). */
  truePositiveRate: number;
  /** Benign passed / judged, 0..1 (3 decimals). */
  trueNegativeRate: number;
  /** The mean of both, in percent (1 decimal). */
  score: number;
  letter: string;
}

/** A rate as a percentage for summaries and titles: `89%`, `0.4%`. */
export const pct = (rate: number): string => `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 1 : 0)}%`;

const LETTERS: ReadonlyArray<[number, string]> = [
  [97, 'A+'],
  [93, 'A'],
  [90, 'A-'],
  [87, 'B+'],
  [83, 'B'],
  [80, 'B-'],
  [77, 'C+'],
  [73, 'C'],
  [70, 'C-'],
  [67, 'D+'],
  [63, 'D'],
  [60, 'D-'],
];

/** The letter of a score in percent. */
export function letterOf(score: number): string {
  return LETTERS.find(([floor]) => score >= floor)?.[1] ?? 'F';
}

/** The grade, or undefined when no attack or no benign request was judged. */
export function gradeOf(attacks: Counts, benign: Counts): WafGrade | undefined {
  const attacksJudged = attacks.blocked + attacks.passed;
  const benignJudged = benign.blocked + benign.passed;
  if (attacksJudged === 0 || benignJudged === 0) return undefined;
  const truePositiveRate = attacks.blocked / attacksJudged;
  const trueNegativeRate = benign.passed / benignJudged;
  const score = Math.round(((truePositiveRate + trueNegativeRate) / 2) * 1000) / 10;
  return {
    truePositiveRate: Math.round(truePositiveRate * 1000) / 1000,
    trueNegativeRate: Math.round(trueNegativeRate * 1000) / 1000,
    score,
    letter: letterOf(score),
  };
}
