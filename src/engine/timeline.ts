/**
 * Per-window counters: the streaming shape of a run (accepted vs throttled per 100 ms), kept
 * as a few integers per window instead of every request.
 */
export interface WindowCounts {
  accepted: number;
  throttled: number;
  other: number;
}

export class Timeline {
  private readonly windows: WindowCounts[] = [];

  constructor(
    /** Window start reference, ms on the run clock. */
    readonly originMs: number,
    readonly windowMs: number,
  ) {}

  add(atMs: number, outcome: keyof WindowCounts): void {
    const index = Math.max(0, Math.floor((atMs - this.originMs) / this.windowMs));
    while (this.windows.length <= index) this.windows.push({ accepted: 0, throttled: 0, other: 0 });
    this.windows[index]![outcome]++;
  }

  counts(): readonly WindowCounts[] {
    return this.windows;
  }
}
