/**
 * Sanity of the varnish + vsthrottle harness (test/support/limiters/): each setting's cold volley against its truth,
 * and nothing left running after stop(). Skipped when not installed, unless CI is set (then it fails).
 */
import { sanitySuite } from '../support/limiters/sanity.js';

sanitySuite('varnish-vsthrottle', ['varnish-vsthrottle/token-bucket', 'varnish-vsthrottle/block']);
