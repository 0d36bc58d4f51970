/**
 * Sanity of the @fastify/rate-limit harness (test/support/limiters/): each setting's cold volley against its truth,
 * and nothing left running after stop(). Skipped when not installed, unless CI is set (then it fails).
 */
import { sanitySuite } from '../support/limiters/sanity.js';

sanitySuite('fastify-rate-limit', ['fastify-rate-limit/window-1s', 'fastify-rate-limit/continue-exceeding']);
