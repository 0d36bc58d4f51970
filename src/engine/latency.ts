import { build, type Histogram } from 'hdr-histogram-js';
import { latencyMs, type Observation } from './observation.js';

/**
 * Latency distribution in an HDR histogram (microsecond resolution, 3 significant digits):
 * constant memory however long the run, and percentiles that stay exact to 0.1%.
 */
export class LatencyRecorder {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  add(observation: Observation): void {
    const ms = latencyMs(observation);
    if (ms !== undefined) this.recordMs(ms);
  }

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Adds another recorder's counts: exact, since HDR histograms merge bucket by bucket. */
  addAll(other: LatencyRecorder): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Percentile in ms (p in 0..100), or undefined when nothing was recorded. */
  percentileMs(p: number): number | undefined {
    return this.count === 0 ? undefined : this.histogram.getValueAtPercentile(p) / 1000;
  }

  maxMs(): number | undefined {
    return this.count === 0 ? undefined : this.histogram.maxValue / 1000;
  }
}
