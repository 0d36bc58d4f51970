import { setTimeout as sleep } from 'node:timers/promises';
import type { RunBudget } from './budget.js';
import type { HttpClient, ProbeRequest } from './http-client.js';
import type { Observation } from './observation.js';
import type { Pacer } from './pacer.js';

export interface PacedRunOptions {
  client: HttpClient;
  budget: RunBudget;
  pacer: Pacer;
  /** How many requests to schedule. */
  count: number;
  /** Builds request i (so probes can vary a payload or a header per request). */
  request: (i: number) => ProbeRequest;
  /** Receives every observation as it completes (aggregators, progress). */
  onObservation: (observation: Observation) => void;
  /**
   * Open model: a slow response never delays the next send. When this many requests are in
   * flight, a due request is dropped and counted (k6's dropped_iterations) instead of queued
   * behind the client, so a client-bound run is visible rather than hidden.
   */
  maxInFlight: number;
}

export interface PacedRunSummary {
  scheduled: number;
  sent: number;
  /** Due requests not sent because maxInFlight requests were outstanding. */
  dropped: number;
  /** Requests not sent because the run's cap or deadline was reached. */
  cutByBudget: number;
  startedAtMs: number;
  /** Wall time from the first intended send to the last send. */
  sendSpanMs: number;
  /** Largest lag of an actual send behind its intended time. */
  maxSendLagMs: number;
}

/**
 * The pacing loop: fire every request whose intended time has come, then sleep until the next
 * one is due. Late requests go out at once in a catch-up batch with their original intended
 * time kept, so latency measured from intendedAtMs includes the client's own lag.
 */
export async function runPaced(options: PacedRunOptions): Promise<PacedRunSummary> {
  const { client, budget, pacer, count, maxInFlight } = options;
  const startedAtMs = client.now();
  let next = 0;
  let inFlight = 0;
  let sent = 0;
  let dropped = 0;
  let cutByBudget = 0;
  let lastSendMs = startedAtMs;
  let maxSendLagMs = 0;
  // Resolved when the last outstanding response has come back after the schedule is done.
  let scheduleDone = false;
  let drained: () => void = () => {};
  const allAnswered = new Promise<void>((resolve) => (drained = resolve));
  const onAnswer = (observation: Observation) => {
    inFlight--;
    options.onObservation(observation);
    if (scheduleDone && inFlight === 0) drained();
  };

  while (next < count) {
    const elapsedMs = client.now() - startedAtMs;
    while (next < count && pacer.intendedAtMs(next) <= elapsedMs) {
      const i = next++;
      if (inFlight >= maxInFlight) {
        dropped++;
        continue;
      }
      if (!budget.take()) {
        cutByBudget += count - i;
        next = count;
        break;
      }
      const intendedAtMs = startedAtMs + pacer.intendedAtMs(i);
      inFlight++;
      sent++;
      lastSendMs = client.now();
      maxSendLagMs = Math.max(maxSendLagMs, lastSendMs - intendedAtMs);
      void client.send(options.request(i), intendedAtMs).then(onAnswer);
    }
    if (next >= count) break;
    const waitMs = startedAtMs + pacer.intendedAtMs(next) - client.now();
    // setTimeout sleeps at least ~1 ms; for shorter gaps yield to the event loop so responses
    // are processed, then send the batch that has come due.
    if (waitMs > 1.5) await sleep(Math.floor(waitMs));
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  scheduleDone = true;
  if (inFlight > 0) await allAnswered;
  return { scheduled: count, sent, dropped, cutByBudget, startedAtMs, sendSpanMs: lastSendMs - startedAtMs, maxSendLagMs };
}
