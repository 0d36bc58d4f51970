/**
 * Sanity of the Redis Lua (GCRA, Spring Cloud Gateway) harness (test/support/limiters/): each setting's cold volley against its truth,
 * and nothing left running after stop(). Skipped when not installed, unless CI is set (then it fails).
 */
import { sanitySuite } from '../support/limiters/sanity.js';

sanitySuite('redis', ['redis/gcra', 'redis/spring']);
