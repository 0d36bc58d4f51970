/**
 * Pacers say when request number `i` should leave, in milliseconds from the start of a run.
 * They are pure functions of the index (Vegeta's Pacer idea): no clock, no timers, so their
 * tests are arithmetic tables and the engine can fire late requests in a catch-up batch.
 */
export interface Pacer {
  readonly description: string;
  /** Intended send time of request `i` (0-based), ms from the start of the run. */
  intendedAtMs(i: number): number;
}

/** Evenly spaced arrivals: request i leaves at i / rate. */
export function constantPacer(ratePerSec: number): Pacer {
  if (!(ratePerSec > 0)) throw new RangeError(`ratePerSec must be > 0, got ${ratePerSec}`);
  const intervalMs = 1000 / ratePerSec;
  return { description: `constant ${ratePerSec}/s`, intendedAtMs: (i) => i * intervalMs };
}

/** Every request at once: the burst probe's volley. */
export function volleyPacer(): Pacer {
  return { description: 'volley', intendedAtMs: () => 0 };
}

/**
 * Poisson arrivals at a mean rate: exponential gaps from a seeded generator, so a run can be
 * replayed. Gaps are generated lazily and cached, so intendedAtMs(i) is stable for each i.
 */
export function poissonPacer(ratePerSec: number, seed = 1): Pacer {
  if (!(ratePerSec > 0)) throw new RangeError(`ratePerSec must be > 0, got ${ratePerSec}`);
  const random = mulberry32(seed);
  const times: number[] = [0];
  return {
    description: `poisson ${ratePerSec}/s (seed ${seed})`,
    intendedAtMs(i) {
      while (times.length <= i) {
        const gapMs = (-Math.log(1 - random()) / ratePerSec) * 1000;
        times.push(times[times.length - 1]! + gapMs);
      }
      return times[i]!;
    },
  };
}

/** Small, well-known 32-bit PRNG; good enough for arrival jitter, and reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A linear ramp from `fromRatePerSec` to `toRatePerSec` over `durationSec`. Request i leaves
 * when the cumulative arrivals N(t) = r0·t + (r1 − r0)·t²/(2T) reach i, solved for t.
 */
export function rampPacer(fromRatePerSec: number, toRatePerSec: number, durationSec: number): Pacer {
  if (!(fromRatePerSec > 0) || !(toRatePerSec > 0) || !(durationSec > 0)) throw new RangeError('ramp rates and duration must be > 0');
  if (fromRatePerSec === toRatePerSec) return constantPacer(fromRatePerSec);
  const r0 = fromRatePerSec;
  const slope = (toRatePerSec - fromRatePerSec) / durationSec; // requests/s²
  return {
    description: `ramp ${fromRatePerSec}→${toRatePerSec}/s over ${durationSec} s`,
    intendedAtMs: (i) => ((-r0 + Math.sqrt(r0 * r0 + 2 * slope * i)) / slope) * 1000,
  };
}

/**
 * Given send times (ms from the start, not decreasing): a designed probe sequence such as the
 * limiter identification's (volleys, trickles, gaps) sent through the same open-model engine.
 */
export function schedulePacer(timesMs: readonly number[], description = 'schedule'): Pacer {
  for (let i = 1; i < timesMs.length; i++) {
    if (!(timesMs[i]! >= timesMs[i - 1]!)) throw new RangeError(`send times must not decrease (index ${i})`);
  }
  return { description, intendedAtMs: (i) => timesMs[Math.min(i, timesMs.length - 1)] ?? 0 };
}
