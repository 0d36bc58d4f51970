/**
 * The canary check's maths and verdicts. The statistical claims are exact binomial sums, not
 * simulations: for the numbers the e2e tests and the demo use, the chance that a Bernoulli
 * (per-request, as on AWS) split gives the wrong verdict is computed and bounded here.
 */
import { describe, expect, it } from 'vitest';
import { canaryCheck, evaluateCanary, type CanarySpec } from '../../src/checks/canary/check.js';
import { normalQuantile, requestsForPrecision, wilsonHalfWidth, wilsonInterval } from '../../src/checks/canary/wilson.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { RoutePolicy } from '../../src/policy/types.js';

describe('Wilson maths', () => {
  it('normal quantiles match the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 12);
  });

  it('the interval of a textbook case (Newcombe 1998: 81 of 263 → 0.2553–0.3662 at 95%)', () => {
    const { low, high } = wilsonInterval(81, 263, 0.95);
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
    expect(wilsonInterval(0, 10, 0.95).low).toBeCloseTo(0, 12);
    expect(wilsonInterval(10, 10, 0.95).high).toBe(1);
  });

  it('requests for ±2 points at 95%: 868 at 10%, 2398 at 50%; the reference policy ±5 points: 141', () => {
    expect(requestsForPrecision(0.1, 0.02, 0.95)).toBe(868);
    expect(wilsonHalfWidth(0.1, 868, 0.95)).toBeLessThanOrEqual(0.02);
    expect(wilsonHalfWidth(0.1, 867, 0.95)).toBeGreaterThan(0.02);
    expect(requestsForPrecision(0.5, 0.02, 0.95)).toBe(2398);
    expect(requestsForPrecision(0.1, 0.05, 0.95)).toBe(141);
  });
});

/** P(X = k) for X ~ Binomial(n, p), in logs for stability. */
function binomialPmf(n: number, k: number, p: number): number {
  let logC = 0;
  for (let i = 1; i <= k; i++) logC += Math.log(n - k + i) - Math.log(i);
  return Math.exp(logC + k * Math.log(p) + (n - k) * Math.log(1 - p));
}
/** Probability that the verdict is `fail` (configured share outside the interval) when the true share is p; `pass` with fails=false. */
function verdictProbability(n: number, p: number, configured: number, confidence: number, fails = true): number {
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    const { low, high } = wilsonInterval(k, n, confidence);
    if ((configured < low || configured > high) === fails) sum += binomialPmf(n, k, p);
  }
  return sum;
}

/** P(X = k) for X ~ Hypergeometric(N, K, n): k canary cards among n drawn from a deck of N holding K. */
function hypergeometricPmf(N: number, K: number, n: number, k: number): number {
  if (k < 0 || k > K || k > n || n - k > N - K) return 0;
  const logC = (a: number, b: number) => {
    let sum = 0;
    for (let i = 1; i <= b; i++) sum += Math.log(a - b + i) - Math.log(i);
    return sum;
  };
  return Math.exp(logC(K, k) + logC(N - K, n - k) - logC(N, n));
}
/**
 * The reference gateway's split (src/gateway/canary.ts): decks of 100 holding exactly `perDeck`
 * canary cards. n consecutive answers are the tail of one deck, whole decks, and the head of
 * another; the worst chance, over every offset into the first deck, that the verdict is wrong.
 */
function deckWrongVerdict(n: number, perDeck: number, configured: number, confidence: number, wrongIsFail: boolean): number {
  let worst = 0;
  for (let tail = 0; tail < 100; tail++) {
    const full = Math.floor((n - tail) / 100);
    const head = n - tail - 100 * full;
    let p = 0;
    for (let k1 = 0; k1 <= Math.min(tail, perDeck); k1++)
      for (let k2 = 0; k2 <= Math.min(head, perDeck); k2++) {
        const { low, high } = wilsonInterval(k1 + k2 + full * perDeck, n, confidence);
        if ((configured < low || configured > high) === wrongIsFail)
          p += hypergeometricPmf(100, perDeck, tail, k1) * hypergeometricPmf(100, perDeck, head, k2);
      }
    worst = Math.max(worst, p);
  }
  return worst;
}

describe('statistical error of the verdict, exactly', () => {
  it('Bernoulli split (AWS) at the default 95%: a correct 10% canary fails about 1 run in 20, the price of 95%', () => {
    const falseFail = verdictProbability(868, 0.1, 0.1, 0.95);
    expect(falseFail).toBeGreaterThan(0.03);
    expect(falseFail).toBeLessThan(0.07);
    // A 30% canary configured at 10% is missed with a chance below 1e-30.
    expect(verdictProbability(868, 0.3, 0.1, 0.95, false)).toBeLessThan(1e-30);
  });

  it('Bernoulli split at confidence 0.999999 and ±5 points (879 requests): a correct canary fails ~2e-6, a 30% one always', () => {
    const n = requestsForPrecision(0.1, 0.05, 0.999999);
    expect(n).toBe(879);
    // Wilson's coverage far in the tail is a little under nominal: 2.0e-6 where 1e-6 is asked.
    expect(verdictProbability(n, 0.1, 0.1, 0.999999)).toBeLessThan(2.5e-6);
    expect(verdictProbability(n, 0.3, 0.1, 0.999999, false)).toBeLessThan(1e-12);
  });

  it("the reference gateway's decks: no wrong verdict is possible for the demo (868) and the e2e policy (388)", () => {
    for (const n of [868, requestsForPrecision(0.1, 0.03, 0.95)]) {
      expect(deckWrongVerdict(n, 10, 0.1, 0.95, true), `correct canary fails, n=${n}`).toBe(0);
      expect(deckWrongVerdict(n, 30, 0.1, 0.95, false), `canary-skew passes, n=${n}`).toBe(0);
    }
    expect(requestsForPrecision(0.1, 0.03, 0.95)).toBe(388);
    // Fewer requests would not do: at ±5 points (141) a correct canary could fail (worst offset 5.9e-4).
    expect(deckWrongVerdict(141, 10, 0.1, 0.95, true)).toBeGreaterThan(1e-4);
  });
});

const route: RoutePolicy = {
  id: 'GET /c',
  index: 0,
  name: 'GET /c',
  method: 'GET',
  path: '/c',
  auth: { required: true, credential: 'main', refuseStatus: [401, 403] },
};
const spec = (over: Partial<CanarySpec> = {}): CanarySpec => ({
  route,
  canary: { percent: 10, marker: { header: 'x-canary', value: 'true' }, precision: 0.05, confidence: 0.95 },
  planned: 141,
  authProbes: 66,
  origin: 'https://app.example.com',
  ...over,
});
let t = 0;
const obs = (probe: string, status: number | undefined, headers: Record<string, string> = {}, body?: string): Observation => ({
  probe,
  method: 'GET',
  path: '/c',
  intendedAtMs: t,
  sentAtMs: t,
  doneAtMs: ++t,
  headers,
  ...(status !== undefined ? { status } : { error: 'ECONNRESET' }),
  ...(body !== undefined ? { bodySnippet: body } : {}),
});
const CORS = { 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin' };
const sampleOf = (canary: number, base: number, canaryHeaders: Record<string, string> = CORS) => [
  ...Array.from({ length: canary }, () => obs('canary.sample', 200, { ...canaryHeaders, 'x-canary': 'true' })),
  ...Array.from({ length: base }, () => obs('canary.sample', 200, CORS)),
];
const refusals = (n: number) => Array.from({ length: n }, () => obs('canary.unauthenticated', 403));
const policy = { target: 'http://gw' };

describe('evaluateCanary', () => {
  it('passes 14 of 141 at 10% (interval 6.01–15.98%)', () => {
    const v = evaluateCanary(spec(), [...sampleOf(14, 127), ...refusals(66)], {}, policy);
    expect(v.status).toBe('pass');
    expect(v.observed.interval).toEqual({ lowPercent: 6.01, highPercent: 15.98 });
    expect(v.findings).toEqual([]);
  });

  it('fails 42 of 141 (30%) with a high canary-share finding', () => {
    const v = evaluateCanary(spec(), [...sampleOf(42, 99), ...refusals(66)], {}, policy);
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => `${f.severity} ${f.id}`)).toEqual(['high canary-share']);
  });

  it('is inconclusive when the budget cut the sample short and the percent lies inside', () => {
    const v = evaluateCanary(spec(), sampleOf(3, 27), { short: "the run's budget allowed 30 of the 141 requests" }, policy);
    expect(v.status).toBe('inconclusive');
    // A short sample that still excludes the percent is a fail: a wide interval that excludes it is evidence enough.
    expect(evaluateCanary(spec(), sampleOf(25, 5), { short: 'x' }, policy).status).toBe('fail');
  });

  it('is an error when the gateway fails or answers otherwise', () => {
    expect(
      evaluateCanary(spec(), [...sampleOf(1, 9), ...Array.from({ length: 5 }, () => obs('canary.sample', 502))], {}, policy).status,
    ).toBe('error');
    expect(evaluateCanary(spec(), [], { stopped: 'the gateway is failing' }, policy).status).toBe('error');
  });

  it('finds canary answers with other CORS headers than the base', () => {
    const v = evaluateCanary(spec(), [...sampleOf(14, 127, { vary: 'Origin' }), ...refusals(66)], {}, policy);
    expect(v.findings.map((f) => `${f.severity} ${f.id}`)).toEqual(['high canary-cors']);
    expect(v.observed.corsDiffers).toBe(true);
  });

  it('finds a canary answering requests without a credential that the base refuses', () => {
    const anonymous = [...refusals(60), ...Array.from({ length: 6 }, () => obs('canary.unauthenticated', 200, { 'x-canary': 'true' }))];
    const v = evaluateCanary(spec(), [...sampleOf(14, 127), ...anonymous], {}, policy);
    expect(v.findings.map((f) => `${f.severity} ${f.id}`)).toEqual(['critical bypass:unauthenticated']);
    // Base and canary both let anonymous requests through: the auth check's finding, not the canary's.
    const open = Array.from({ length: 66 }, (_, i) => obs('canary.unauthenticated', 200, i % 10 ? {} : { 'x-canary': 'true' }));
    expect(evaluateCanary(spec(), [...sampleOf(14, 127), ...open], {}, policy).findings).toEqual([]);
  });

  it('reads a body-field marker', () => {
    const marker = { bodyField: 'deployment', value: 'canary' };
    const s = spec({ canary: { ...spec().canary, marker }, origin: undefined as unknown as string });
    delete s.origin;
    const answers = [
      ...Array.from({ length: 14 }, () => obs('canary.sample', 200, {}, '{"ok":true,"deployment":"canary"}')),
      ...Array.from({ length: 127 }, () => obs('canary.sample', 200, {}, '{"ok":true}')),
    ];
    expect(evaluateCanary(s, answers, {}, policy).observed.canary).toBe(14);
  });
});

describe('select', () => {
  it('plans the requests from the maths and the unauthenticated probes from the share', () => {
    const policy = parsePolicy(
      `version: 1
credentials: { main: { value: "k-1234" } }
routes:
  - method: GET
    path: /c
    auth: { required: true, credential: main }
    cors: { allowOrigins: ["*", https://a.example] }
    canary: { percent: 10, marker: { header: x-canary, value: "true" } }
`,
      'p.yaml',
      { env: {} },
    );
    const [instance] = canaryCheck.select(policy);
    expect(instance!.spec.planned).toBe(868);
    // ceil(ln 1e-3 / ln 0.9): a canary taking anonymous requests is seen but with a 1e-3 chance.
    expect(instance!.spec.authProbes).toBe(66);
    expect(instance!.spec.origin).toBe('https://a.example');
    expect(canaryCheck.plan(instance!.spec, policy).requests).toBe(934);
  });
});
