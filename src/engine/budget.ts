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
    /** Aborted by interrupt(); share its signal with the HTTP clients so they drop what is in flight. */
    private readonly stop: AbortController = new AbortController(),
  ) {}

  get requestsSent(): number {
    return this.sent;
  }

  get requestsLeft(): number {
    return Math.max(0, this.maxRequests - this.sent);
  }

  get msLeft(): number {
    if (this.stop.signal.aborted) return 0;
    return Math.max(0, this.deadlineMs - this.now());
  }

  /**
   * Ends the run early (Ctrl-C): no request is taken from here on and every pause returns at
   * once, so the checks wind down within a scheduling tick and the reports can still be written.
   */
  interrupt(): void {
    this.stop.abort();
  }

  get interrupted(): boolean {
    return this.stop.signal.aborted;
  }

  /** Aborts on interrupt: for clients that should drop what is in flight. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Waits `ms`, or less when the run is interrupted. Every wait a check makes goes through here. */
  pause(ms: number): Promise<void> {
    if (this.stop.signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stop.signal.addEventListener('abort', done);
    });
  }

  /** Why a plan of `requests` requests over `durationMs` cannot run, or undefined when it can. */
  shortfall(requests: number, durationMs = 0): string | undefined {
    if (requests > this.requestsLeft)
      return `needs ${requests} requests but only ${this.requestsLeft} of the run's cap of ${this.maxRequests} are left`;
    if (durationMs > this.msLeft)
      return `needs ${(durationMs / 1000).toFixed(1)} s but only ${(this.msLeft / 1000).toFixed(1)} s of the run's time cap are left`;
    return undefined;
  }

  /** Takes one request from the cap; false when the cap or the deadline is reached. */
  take(): boolean {
    if (this.stop.signal.aborted || this.sent >= this.maxRequests || this.now() >= this.deadlineMs) return false;
    this.sent++;
    return true;
  }
}
