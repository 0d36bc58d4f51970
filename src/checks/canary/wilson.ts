/**
 * The Wilson score interval for a binomial share, and the sample size that reaches a stated
 * half-width. Pure maths.
 *
 *   centre = (p̂ + z²/2n) / (1 + z²/n)
 *   half   = z / (1 + z²/n) · √( p̂(1−p̂)/n + z²/4n² )
 *
 * with z the standard normal quantile of (1 + confidence)/2. Unlike the normal (Wald) interval it
 * never leaves [0, 1] and keeps its coverage near 0 or 1, where canary shares live.
 */

export interface Interval {
  low: number;
  high: number;
}

/** The Wilson interval of `successes` out of `n` at `confidence`. */
export function wilsonInterval(successes: number, n: number, confidence: number): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const z = normalQuantile((1 + confidence) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Half-width of the Wilson interval when the observed share is exactly `share`. */
export function wilsonHalfWidth(share: number, n: number, confidence: number): number {
  const z = normalQuantile((1 + confidence) / 2);
  const z2n = (z * z) / n;
  return (z / (1 + z2n)) * Math.sqrt((share * (1 - share)) / n + (z * z) / (4 * n * n));
}

/**
 * The fewest requests whose Wilson interval around `share` is at most ±precision wide (the
 * half-width falls as n grows, so a bisection finds the first n that reaches it).
 */
export function requestsForPrecision(share: number, precision: number, confidence: number): number {
  let low = 1;
  let high = 1;
  while (wilsonHalfWidth(share, high, confidence) > precision) high *= 2;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (wilsonHalfWidth(share, mid, confidence) > precision) low = mid + 1;
    else high = mid;
  }
  return high;
}

/**
 * The standard normal quantile Φ⁻¹(p), by Wichura's algorithm AS 241 (PPND16, Applied
 * Statistics 37, 1988): relative error below 1e-16 over (0, 1). Its coefficients are printed
 * with more digits than a double holds; here they are rounded to doubles.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) * r + 13731.69376550946) * r +
          1971.5909503065513) *
          r +
          133.14166789178438) *
          r +
          3.3871328727963665)) /
      (((((((5226.495278852546 * r + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) * r + 5394.196021424751) * r +
        687.1870074920579) *
        r +
        42.31333070160091) *
        r +
        1)
    );
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r + 1.2704582524523684) * r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((1.0507500716444169e-9 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r + 0.14810397642748008) * r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1);
  } else {
    r -= 5;
    value =
      (((((((2.0103343992922881e-7 * r + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r + 0.026532189526576124) * r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((2.0442631033899397e-15 * r + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r + 0.0007868691311456133) * r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
        1);
  }
  return q < 0 ? -value : value;
}
