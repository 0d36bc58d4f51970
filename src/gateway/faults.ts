/**
 * Named misconfigurations the reference gateway can be started with. Each one is a known-bad
 * gateway that gatecheck must catch: all but the last three make exactly one check kind fail, the last
 * three break the gateway so badly that gatecheck must answer `error` (it could not observe),
 * never `pass`. The demo and the test suite use them as negative controls.
 */
export const FAULTS = {
  'no-throttle': 'no rate limiting at all: every request reaches the backend',
  'fast-throttle': 'tokens refill at 2x the policy rateLimit',
  'big-burst': 'bucket size is 3x the policy burstLimit',
  'plans-ignored': "usage plans are not attached: every key gets the route's throttle instead of its plan's",
  'cors-reflect': 'any Origin (including null) is reflected into Access-Control-Allow-Origin, with Vary: Origin',
  'cors-star': 'Access-Control-Allow-Origin: * for everyone',
  'cors-off': 'no CORS headers at all; preflights answer 403 Missing Authentication Token',
  'no-quota': 'the usage-plan quota is not enforced',
  'auth-off': 'the API key is not checked',
  'waf-off': 'WAF rules disabled',
  'ws-auth-off': 'WebSocket $connect does not check the credential: every upgrade opens a socket',
  'ws-no-throttle': 'WebSocket messages are never throttled',
  'iam-off': 'IAM (SigV4) routes accept any request, signed or not',
  'canary-skew': "canary routes send 3x the policy's percent to the canary (30% when it says 10%)",
  'no-trace': 'no X-Amzn-Trace-Id on answers, although tracing is on',
  slow: 'every backend answer is delayed by 400 ms',
  'error-5xx': 'the backend answers 502 {"message":"Internal server error"} to everything that passes the gateway',
  reset: 'the socket is destroyed without an answer when a request reaches the backend',
  hang: 'requests that reach the backend are never answered',
} as const;

export type FaultName = keyof typeof FAULTS;

/** Every fault name, in the order above (stable: the CLI lists them in this order). */
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/**
 * What gatecheck must conclude under each fault: the check kind that must fail (all others pass),
 * or `error` when no check may pass because the gateway cannot be observed properly.
 */
export const FAULT_EXPECTATION: Readonly<
  Record<
    FaultName,
    'throttle' | 'quota' | 'cors' | 'auth' | 'waf' | 'slo' | 'sigv4' | 'canary' | 'tracing' | 'ws-auth' | 'ws-throttle' | 'error'
  >
> = {
  'no-throttle': 'throttle',
  'fast-throttle': 'throttle',
  'big-burst': 'throttle',
  'plans-ignored': 'throttle',
  'cors-reflect': 'cors',
  'cors-star': 'cors',
  'cors-off': 'cors',
  'no-quota': 'quota',
  'auth-off': 'auth',
  'waf-off': 'waf',
  'ws-auth-off': 'ws-auth',
  'ws-no-throttle': 'ws-throttle',
  'iam-off': 'sigv4',
  'canary-skew': 'canary',
  'no-trace': 'tracing',
  slow: 'slo',
  'error-5xx': 'error',
  reset: 'error',
  hang: 'error',
};

/** How much more traffic the `canary-skew` fault sends to the canary than the policy says. */
export const CANARY_SKEW_FACTOR = 3;

/** Delay the `slow` fault adds to every backend answer. */
export const SLOW_FAULT_DELAY_MS = 400;

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}
