/**
 * How a payload is written inside its placement. Pure string functions.
 *
 * `plain` is the payload as an attacker types it: only what the placement cannot carry at all is
 * percent-encoded (a `&` would end a query value, a `;` a cookie, a CR/LF a header, and a
 * request target or header holds no raw non-ASCII). The other encodings are evasions a WAF must
 * undo: percent-encoding once (`url`) or twice (`double-url`), JSON `\uXXXX` escapes (`unicode`),
 * and `base64` (only meaningful where the backend decodes the field, hence opt-in).
 */
import type { WafEncoding, WafPlacement } from '../../policy/types.js';

/** The encodings each placement can meaningfully carry, in report order. */
export const ENCODINGS_BY_PLACEMENT: Readonly<Record<WafPlacement, readonly WafEncoding[]>> = {
  query: ['plain', 'url', 'double-url', 'base64'],
  path: ['plain', 'url', 'double-url'],
  // Nothing URL-decodes a User-Agent: percent-encoding it would test nothing a backend does.
  header: ['plain', 'base64'],
  // Frameworks URL-decode cookie values (Express, Rails, Spring), so `url` is a real evasion there.
  cookie: ['plain', 'url', 'base64'],
  json: ['plain', 'unicode', 'base64'],
  form: ['plain', 'url', 'double-url', 'base64'],
};

/** The encodings of `wanted` that `placement` carries, in ENCODINGS_BY_PLACEMENT order. */
export function encodingsFor(placement: WafPlacement, wanted: readonly WafEncoding[]): WafEncoding[] {
  return ENCODINGS_BY_PLACEMENT[placement].filter((e) => wanted.includes(e));
}

/** Characters a placement cannot carry raw (besides controls, non-ASCII and a `%` that starts no escape). */
const STRUCTURAL: Readonly<Record<'query' | 'path' | 'form' | 'cookie' | 'header', string>> = {
  // `&` ends the value, `#` starts the fragment, `+` would become a space.
  query: '&#+ ',
  // `?` would start the query; `/` stays: a traversal in the path is sent as slashes.
  path: '?# ',
  form: '&=+#',
  // `;` separates cookies; spaces and commas are carried as they are by every server.
  cookie: ';',
  header: '',
};

/** Percent-encodes the UTF-8 bytes of one character. */
function percent(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * `plain`: percent-encodes only what the placement cannot carry. A `%` followed by two hex digits
 * is kept (the payload may be pre-encoded on purpose, e.g. `%c0%af`); any other `%` is encoded,
 * except in a header, which nothing percent-decodes.
 * In a form body a space becomes `+`, as browsers send it.
 */
export function escapeMinimal(text: string, placement: keyof typeof STRUCTURAL): string {
  const structural = STRUCTURAL[placement];
  let out = '';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const code = c.codePointAt(0)!;
    if (c === '%' && placement !== 'header') {
      // Nothing percent-decodes a User-Agent, so there a `%` is just a character.
      out += /^[0-9A-Fa-f]{2}$/.test((chars[i + 1] ?? '') + (chars[i + 2] ?? '')) ? c : '%25';
    } else if (placement === 'form' && c === ' ') {
      out += '+';
    } else if (code < 0x20 || code === 0x7f || code > 0x7e || structural.includes(c)) {
      // A header may carry a tab; everything else below 0x20 ends or breaks it.
      out += placement === 'header' && c === '\t' ? c : percent(c);
    } else {
      out += c;
    }
  }
  return out;
}

/** `url`: RFC 3986 percent-encoding of everything but the unreserved characters. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => percent(c));
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** JSON text of `value` with every character of every string (keys too) written as `\uXXXX`. */
export function jsonUnicode(value: unknown): string {
  if (typeof value === 'string') return `"${[...value].map((c) => escapeUnits(c)).join('')}"`;
  if (Array.isArray(value)) return `[${value.map(jsonUnicode).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${jsonUnicode(k)}:${jsonUnicode(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** One character as `\uXXXX` escapes (two for characters outside the BMP: JSON escapes UTF-16 units). */
function escapeUnits(char: string): string {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** Encodes text for a URL-shaped placement (query, path, form, cookie, header). */
export function encodeText(text: string, placement: Exclude<WafPlacement, 'json'>, encoding: WafEncoding): string {
  switch (encoding) {
    case 'plain':
      return escapeMinimal(text, placement);
    case 'url':
      return percentEncode(text);
    case 'double-url':
      return percentEncode(percentEncode(text));
    case 'base64':
      // Base64's `+`, `/` and `=` are then escaped as the placement needs.
      return escapeMinimal(base64(text), placement);
    case 'unicode':
      throw new Error(`encoding unicode does not apply to the ${placement} placement`);
  }
}

/** The JSON body `{"q": ...}` carrying `value` (a string, or a JSON value for structured payloads). */
export function encodeJsonBody(value: unknown, encoding: WafEncoding): string {
  switch (encoding) {
    case 'plain':
      return JSON.stringify({ q: value });
    case 'unicode':
      return jsonUnicode({ q: value });
    case 'base64':
      return JSON.stringify({ q: base64(typeof value === 'string' ? value : JSON.stringify(value)) });
    default:
      throw new Error(`encoding ${encoding} does not apply to the json placement`);
  }
}
