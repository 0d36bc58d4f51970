/**
 * The CORS check's graded findings (docs/findings.md), from its judged exchanges. Pure.
 *
 * | slug                                   | severity | what                                                         |
 * |----------------------------------------|----------|--------------------------------------------------------------|
 * | origin-readable:any                    | critical | the Origin is echoed: every origin reads the answers          |
 * | origin-readable:wildcard               | critical | `Access-Control-Allow-Origin: *` although origins are listed  |
 * | origin-readable:<origin>               | critical | one hostile origin (suffix, prefix, null, http-…) reads       |
 * | allowed-origin-refused:<origin>        | high     | the browser refuses an origin the policy allows: the app breaks |
 * | credentials-allowed                    | medium   | Allow-Credentials: true although the policy says false       |
 * | allow-methods-missing                  | medium   | Allow-Methods lacks a method the policy allows (not the route's) |
 * | vary-origin-missing                    | medium   | the ACAO depends on the Origin without `Vary: Origin`         |
 * | no-cors-on-error:<status>              | low      | a refusal (401, 403…) the browser hides from the page         |
 * | max-age                                | low      | Access-Control-Max-Age differs from the policy's              |
 *
 * Ids are stable: they name the mechanism, an origin the policy derives, or the gateway's refusal
 * status, never a count. Their number is bounded by the hostile origins the policy derives.
 */
import type { FindingDraft } from '../contract.js';
import { finding, slugPart } from '../findings.js';
import { SEVERITIES, type Severity } from '../types.js';
import type { CorsFinding } from './exchanges.js';
import { ARBITRARY_ORIGIN } from './origins.js';

/** At most this many exchange notes in a finding's detail; the evidence lists every exchange. */
const NOTES_SHOWN = 3;

interface Group {
  slug: string;
  severity: Severity;
  title: string;
  /** What the detail starts with; the exchanges' notes follow. */
  lead: string;
  evidence: number[];
  notes: string[];
}

/**
 * The findings of one CORS check. `exchanges[i]` is the check's evidence item i; `lackingVary` are
 * exchanges (of the same list) whose answer depends on the Origin without saying so.
 */
export function gradeCors(exchanges: readonly CorsFinding[], lackingVary: readonly CorsFinding[] = []): FindingDraft[] {
  const groups = new Map<string, Group>();
  const add = (exchange: CorsFinding, group: Omit<Group, 'evidence' | 'notes'>, note = exchange.note): void => {
    const entry = groups.get(group.slug) ?? { ...group, evidence: [], notes: [] };
    groups.set(group.slug, entry);
    entry.evidence.push(exchanges.indexOf(exchange));
    if (!entry.notes.includes(note)) entry.notes.push(note);
  };
  const anyOriginReads = exchanges.some((e) => e.problem === 'hostile-readable' && e.probe.origin === ARBITRARY_ORIGIN && !isWildcard(e));
  for (const exchange of exchanges) {
    if (exchange.outcome !== 'violation' || !exchange.problem) continue;
    add(exchange, groupOf(exchange, anyOriginReads));
  }
  for (const exchange of lackingVary) {
    add(
      exchange,
      {
        slug: 'vary-origin-missing',
        severity: 'medium',
        title: 'answers that depend on the Origin lack `Vary: Origin`',
        lead: 'a shared cache can serve the answer for one origin to another (cache poisoning, or an allowed app refused)',
      },
      `the answer to ${exchange.probe.origin} has no Vary: Origin`,
    );
  }
  return [...groups.values()]
    .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.evidence[0]! - b.evidence[0]!)
    .map((g) => finding(g.slug, g.severity, g.title, detailOf(g), g.evidence));
}

function isWildcard(exchange: CorsFinding): boolean {
  return exchange.observation?.headers['access-control-allow-origin'] === '*';
}

/** Which finding an exchange's problem belongs to. */
function groupOf(exchange: CorsFinding, anyOriginReads: boolean): Omit<Group, 'evidence' | 'notes'> {
  const { origin } = exchange.probe;
  switch (exchange.problem!) {
    case 'wildcard':
    case 'hostile-readable':
      if (isWildcard(exchange) || exchange.problem === 'wildcard')
        return {
          slug: 'origin-readable:wildcard',
          severity: 'critical',
          title: 'any origin can read responses: Access-Control-Allow-Origin: * although the policy lists origins',
          lead: 'a page on any site can read the answers to requests it makes without credentials',
        };
      if (anyOriginReads)
        return {
          slug: 'origin-readable:any',
          severity: 'critical',
          title: 'any origin can read responses: the Origin is reflected into Access-Control-Allow-Origin',
          lead: 'an origin unrelated to the allowed ones got its own origin back, so every origin does',
        };
      return {
        slug: `origin-readable:${originSlug(origin)}`,
        severity: 'critical',
        title: `hostile origin ${origin} can read responses (${exchange.probe.bypass})`,
        lead: `the gateway's origin matching lets ${origin} through`,
      };
    case 'refused':
      return {
        slug: `allowed-origin-refused:${originSlug(origin)}`,
        severity: 'high',
        title: `the browser refuses ${origin}, an origin the policy allows`,
        lead: "the policy's browser clients on this origin are broken",
      };
    case 'error-without-cors': {
      const status = exchange.observation!.status!;
      return {
        slug: `no-cors-on-error:${status}`,
        severity: 'low',
        title: `${status} answers carry no usable CORS headers: the browser app cannot see why it was refused`,
        lead: `the page gets a network error instead of the ${status}, so it cannot react to it (log in again, show the message)`,
      };
    }
    case 'credentials-allowed':
      return {
        slug: 'credentials-allowed',
        severity: 'medium',
        title: 'Access-Control-Allow-Credentials: true although the policy says allowCredentials: false',
        lead: "the allowed origins can read answers to requests sent with the user's cookies",
      };
    case 'methods-missing':
      return {
        slug: 'allow-methods-missing',
        severity: 'medium',
        title: 'Access-Control-Allow-Methods lacks methods the policy allows',
        lead: 'browser apps using those methods on this path are refused',
      };
    case 'max-age':
      return {
        slug: 'max-age',
        severity: 'low',
        title: 'Access-Control-Max-Age differs from the policy',
        lead: 'browsers repeat (or keep) preflights for another time than the policy says',
      };
  }
}

/** slugPart drops the scheme; `http://app.example.com` must not read as the allowed `https://app.example.com`. */
function originSlug(origin: string): string {
  return origin.startsWith('http://') ? `http-${slugPart(origin)}` : slugPart(origin);
}

function detailOf(group: Group): string {
  const shown = group.notes.slice(0, NOTES_SHOWN).join('; ');
  const more = group.notes.length > NOTES_SHOWN ? `; and ${group.notes.length - NOTES_SHOWN} more` : '';
  const exchanges = `${group.evidence.length} exchange${group.evidence.length === 1 ? '' : 's'}`;
  return `${group.lead} (${exchanges}): ${shown}${more}.`;
}
