/** The throttle check against real bucket limiters: nginx limit_req, varnish vsthrottle, Redis (test/support/throttle-limiter-cases.ts). */
import { describeLimiterCases, LIMITER_CASES } from '../support/throttle-limiter-cases.js';

describeLimiterCases(LIMITER_CASES.filter((c) => /^(nginx|varnish|redis)/.test(c.preset)));
