/**
 * The run's hard bounds: a request cap and a deadline. Every request any check sends is
 * taken from here, so no policy, however large, makes an unbounded run.
 */
export class RunBudget {
  private sent = 0;

  constructor(
    readonly maxRequests: number,
    /** Deadline on the client clock (ms). */
    readonly deadlineMs: number,
    private readonly now: () => number,
  ) {}

  get requestsSent(): number {
    return this.sent;
  }

  get requestsLeft(): number {
    return Math.max(0, this.maxRequests - this.sent);
  }

  get msLeft(): number {
    return Math.max(0, this.deadlineMs - this.now());
  }

  /** Why a plan of `requests` requests over `durationMs` cannot run, or undefined when it can. */
  shortfall(requests: number, durationMs = 0): string | undefined {
    if (requests > this.requestsLeft) return `needs ${requests} requests but only ${this.requestsLeft} of the run's cap of ${this.maxRequests} are left`;
    if (durationMs > this.msLeft) return `needs ${(durationMs / 1000).toFixed(1)} s but only ${(this.msLeft / 1000).toFixed(1)} s of the run's time cap are left`;
    return undefined;
  }

  /** Takes one request from the cap; false when the cap or the deadline is reached. */
  take(): boolean {
    if (this.sent >= this.maxRequests || this.now() >= this.deadlineMs) return false;
    this.sent++;
    return true;
  }
}
