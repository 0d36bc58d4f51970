import type { FindingDraft, Verdict } from './contract.js';
import type { Finding, Severity } from './types.js';

/** A finding as a check's evaluate states it; `slug` names what was found, never a measured number. */
export function finding(
  slug: string,
  severity: Severity,
  title: string,
  detail: string,
  evidence: number[] = [],
  explicit = false,
): FindingDraft {
  return { id: slug, severity, title, detail, evidence, ...(explicit ? { explicit: true } : {}) };
}

/** A check's findings with report-wide ids: `<check id>#<slug>`. */
export function qualifyFindings(checkId: string, verdict: Pick<Verdict<unknown>, 'findings'>): Finding[] {
  return (verdict.findings ?? []).map((draft) => ({ ...draft, id: `${checkId}#${draft.id}` }));
}

/** A slug part from free text (an origin, a category): lower case, safe in YAML and URLs. */
export function slugPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
