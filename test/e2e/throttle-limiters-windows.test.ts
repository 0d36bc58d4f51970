/**
 * The throttle check against real window limiters: HAProxy stick tables, express-rate-limit,
 * @fastify/rate-limit (test/support/throttle-limiter-cases.ts).
 */
import { describeLimiterCases, LIMITER_CASES } from '../support/throttle-limiter-cases.js';

describeLimiterCases(LIMITER_CASES.filter((c) => /^(haproxy|express|fastify)/.test(c.preset)));
