/**
 * Sanity of the HAProxy stick-table harness (test/support/limiters/): each setting's cold volley against its truth,
 * and nothing left running after stop(). Skipped when not installed, unless CI is set (then it fails).
 */
import { sanitySuite } from '../support/limiters/sanity.js';

sanitySuite('haproxy', ['haproxy/accepted-only', 'haproxy/all-requests']);
