import type { Observation } from './observation.js';

/** Sees every observation of a run as it completes. */
export type ObservationSubscriber = (observation: Observation) => void;

/**
 * The run's one record stream (Vegeta's Result stream, k6's metric samples): every engine
 * publishes here, and every consumer subscribes (the checks' collectors, the CloudWatch minute
 * ledger, the recorder behind `run --record`). Observations are tagged with the check that was
 * running when they were sent, so a consumer never has to guess a check from a probe name.
 */
export class ObservationStream {
  private readonly subscribers = new Set<ObservationSubscriber>();
  private currentCheck: string | undefined;

  subscribe(subscriber: ObservationSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The check whose probes are being sent now: its id is stamped on what follows. */
  setCheck(checkId: string | undefined): void {
    this.currentCheck = checkId;
  }

  get check(): string | undefined {
    return this.currentCheck;
  }

  /** Stamps the current check (unless the observation carries one) and hands it to every subscriber. */
  publish(observation: Observation): void {
    if (observation.check === undefined && this.currentCheck !== undefined) observation.check = this.currentCheck;
    for (const subscriber of this.subscribers) subscriber(observation);
  }
}
