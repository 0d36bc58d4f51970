/**
 * The baseline: the canonical attacks every WAF is bought to stop, where every WAF looks. It gates
 * by default (a miss is a `high` finding); the rest of the matrix is graded.
 *
 * Chosen from what the OWASP CRS blocks at paranoia level 1 out of the box (measured on nginx +
 * ModSecurity v3 and Apache + ModSecurity v2, docs/security-checks.md), which is also what AWS's
 * Core rule set and Known bad inputs cover: SQL injection, XSS, path traversal, OS command
 * injection, Log4Shell and XXE, written plainly, in the query string and in the request body.
 * SSTI, SSRF and NoSQL injection have no rules as such in CRS 3.3 or the AWS baseline sets: they are
 * graded, never a baseline.
 */
import type { WafCategory, WafPlacement } from '../../policy/types.js';
import { payloadsOf, type AttackPayload } from './attacks.js';

/** Payload names (attacks.ts) of the baseline, per category. */
export const BASELINE_PAYLOADS: Readonly<Partial<Record<WafCategory, readonly string[]>>> = {
  sqli: ['tautology', 'union select'],
  xss: ['script tag', 'img onerror'],
  traversal: ['dot-dot-slash passwd'],
  cmdi: ['semicolon cat'],
  log4shell: ['jndi ldap'],
  xxe: ['file entity'],
};

/** The placements every WAF inspects: the query string, and the body where the route takes one. */
export const BASELINE_PLACEMENTS: readonly WafPlacement[] = ['query', 'json', 'form'];

/** The baseline payloads of `category` (none for a category without a baseline). */
export function baselinePayloadsOf(category: WafCategory): AttackPayload[] {
  const names = BASELINE_PAYLOADS[category] ?? [];
  return payloadsOf(category).filter((p) => names.includes(p.name));
}
