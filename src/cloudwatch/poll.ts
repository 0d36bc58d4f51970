import { setTimeout as sleep } from 'node:timers/promises';

/**
 * CloudWatch datapoints arrive minutes late. After a run, read at once, then again with a
 * doubling delay (5 s, 10 s, 20 s, 30 s, 30 s...) until the read is settled (every minute the
 * client was busy has its datapoint and nothing is short) or the wait is used up; the last read
 * falls on the deadline itself. The schedule is a pure function, so it is tested with a table.
 */

export interface PollSchedule {
  /** Longest total wait after the first read, ms (--metrics-wait). 0: read once. */
  waitMs: number;
  /** Delay before the second read, ms. Default 5,000. */
  firstDelayMs?: number;
  /** Largest delay between reads, ms. Default 30,000. */
  maxDelayMs?: number;
}

export interface PollClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: PollClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface PollOutcome<T> {
  value: T;
  polls: number;
  /** Time spent waiting between reads, ms. */
  waitedMs: number;
  /** False when the wait ran out first. */
  settled: boolean;
}

/** Delay before read number `poll + 1` (poll counts from 1), given `elapsedMs` already waited; undefined: stop. */
export function nextDelayMs(poll: number, elapsedMs: number, schedule: PollSchedule): number | undefined {
  const remaining = schedule.waitMs - elapsedMs;
  if (remaining <= 0) return undefined;
  const first = schedule.firstDelayMs ?? 5_000;
  const max = schedule.maxDelayMs ?? 30_000;
  const delay = Math.min(max, first * 2 ** (poll - 1));
  return Math.min(delay, remaining);
}

/** Reads until `settled(value)` or the schedule ends. Errors from `read` propagate. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  schedule: PollSchedule,
  clock: PollClock = REAL_CLOCK,
  onPoll?: (poll: number, value: T) => void,
): Promise<PollOutcome<T>> {
  const startedMs = clock.now();
  let polls = 0;
  for (;;) {
    const value = await read();
    polls++;
    onPoll?.(polls, value);
    const waitedMs = clock.now() - startedMs;
    if (settled(value)) return { value, polls, waitedMs, settled: true };
    const delay = nextDelayMs(polls, waitedMs, schedule);
    if (delay === undefined) return { value, polls, waitedMs, settled: false };
    await clock.sleep(delay);
  }
}
