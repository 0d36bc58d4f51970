import type { BenchReport } from './report.js';

/** What came back over a whole bench run, every step or the saturation run together. */
export interface BenchAnswers {
  /** Answers by HTTP status. */
  statusCounts: Record<string, number>;
  answered: number;
  /** 2xx and 3xx: what the figures mean to measure. */
  accepted: number;
  /** 4xx other than 429, and 5xx: refusals and failures. */
  refused: number;
  /** Requests with no answer: refused connections, resets, timeouts. */
  unanswered: number;
}

export function benchAnswers(report: BenchReport): BenchAnswers {
  const statusCounts: Record<string, number> = {};
  const add = (counts: Record<string, number>) => {
    for (const [status, n] of Object.entries(counts)) statusCounts[status] = (statusCounts[status] ?? 0) + n;
  };
  let unanswered = 0;
  for (const step of report.steps) {
    add(step.statusCounts);
    unanswered += step.transportErrors;
  }
  if (report.saturation) {
    add(report.saturation.statusCounts);
    unanswered += report.saturation.errors + (report.saturation.unanswered ?? 0);
  }
  const entries = Object.entries(statusCounts).map(([status, n]) => [Number(status), n] as const);
  const sum = (keep: (status: number) => boolean) => entries.filter(([s]) => keep(s)).reduce((total, [, n]) => total + n, 0);
  return {
    statusCounts,
    answered: sum(() => true),
    accepted: sum((s) => s < 400),
    refused: sum((s) => s >= 400 && s !== 429),
    unanswered,
  };
}

/**
 * Why the run's figures would mislead, or undefined. A benchmark of refusals measures how fast
 * the gateway says no: `accepted/s 0.0` with exit 0 reads as a slow backend. So: nothing
 * accepted, or more than half the answers refusals (4xx, 5xx), is said loudly (the CLI exits 3).
 * 429s alone are not: a ladder above the rate limit is how bench measures a throttle, and
 * `429 share` shows them. `hint` is the next step the caller can offer (a credential to pass).
 */
export function misleadingBench(answers: BenchAnswers, hint?: string): string | undefined {
  const { answered, accepted, refused, unanswered } = answers;
  if (answered === 0) return `no answer came back (${unanswered} request(s) unanswered): is the target up?`;
  const top = Object.entries(answers.statusCounts)
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status}: ${n}`);
  const statuses = Object.keys(answers.statusCounts);
  const what =
    statuses.length === 1 ? `every answer was ${statuses[0]}` : `${refused} of ${answered} answers were refusals (${top.join(', ')})`;
  if (accepted === 0 || refused * 2 > answered) {
    const nothing = accepted === 0 && statuses.length > 1 ? `nothing was accepted: ${what}` : what;
    const refusedAuth = ['401', '403'].some((s) => (answers.statusCounts[s] ?? 0) * 2 > answered);
    return `${nothing}${refusedAuth && hint ? `: the route needs a credential? ${hint}` : ''}; the figures measure refusals`;
  }
  return undefined;
}
