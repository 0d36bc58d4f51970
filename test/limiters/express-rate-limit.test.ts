/**
 * Sanity of the express-rate-limit harness (test/support/limiters/): each setting's cold volley against its truth,
 * and nothing left running after stop(). Skipped when not installed, unless CI is set (then it fails).
 */
import { sanitySuite } from '../support/limiters/sanity.js';

sanitySuite('express-rate-limit', ['express-rate-limit/window-1s', 'express-rate-limit/window-2s-503']);
