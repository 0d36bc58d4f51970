import type { Credential, Policy } from '../policy/types.js';

/** The redactor for a policy's secrets: its credentials and the header values it took from the environment. */
export function policyRedactor(policy: Pick<Policy, 'credentials' | 'headerSecrets'> | undefined): Redactor {
  const redactor = new Redactor(Object.values(policy?.credentials ?? {}));
  for (const { name, value } of policy?.headerSecrets ?? []) redactor.add(value, `<header ${name}>`);
  return redactor;
}

/**
 * Keeps secrets out of every report and log line. Checks build evidence with placeholders
 * (`<credential main>`) in the first place; this is the second fence, applied to every string
 * gatecheck writes, so a secret that slipped into a body snippet or an error is still caught.
 */
export class Redactor {
  private readonly secrets: Array<{ value: string; label: string }> = [];

  constructor(credentials: Iterable<Credential> = []) {
    for (const credential of credentials) {
      this.add(credential.value, `<credential ${credential.name}>`);
      if (credential.expiredValue) this.add(credential.expiredValue, `<credential ${credential.name}, expired>`);
      // An IAM credential's key id and session token are secrets too (the key id is in every Authorization header).
      if (credential.sigv4) {
        this.add(credential.sigv4.accessKeyId, `<credential ${credential.name}, access key id>`);
        if (credential.sigv4.sessionToken) this.add(credential.sigv4.sessionToken, `<credential ${credential.name}, session token>`);
      }
    }
  }

  /** Registers a secret (or a variant derived from one, e.g. a truncated key). */
  add(value: string, label: string): void {
    // Very short values would redact ordinary text; the policy schema requires non-empty ones,
    // and real keys are long. Four characters is the floor at which redaction still means something.
    if (value.length < 4 || this.secrets.some((s) => s.value === value)) return;
    this.secrets.push({ value, label });
    // Longest first, so a key is replaced whole before any shorter variant of it is.
    this.secrets.sort((a, b) => b.value.length - a.value.length);
  }

  redact(text: string): string {
    let out = text;
    for (const { value, label } of this.secrets) {
      if (out.includes(value)) out = out.split(value).join(label);
      // The same secret as it looks URL-encoded, inside a JSON string, or HTML-escaped in Markdown.
      const htmlEscaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      for (const form of [encodeURIComponent(value), JSON.stringify(value).slice(1, -1), htmlEscaped]) {
        if (form !== value && out.includes(form)) out = out.split(form).join(label);
      }
    }
    return out;
  }

  /**
   * Every string in a JSON value (object keys too), redacted one by one: a report model is made
   * safe before it is formatted, so a placeholder is escaped like any text (a label with quotes
   * stays valid JSON, `<credential main>` is shown in Markdown, not read as HTML).
   */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.redactDeep(item)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.redact(k), this.redactDeep(v)])) as T;
    }
    return value;
  }
}
