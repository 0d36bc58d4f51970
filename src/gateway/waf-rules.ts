/**
 * A small WAF in the style of the AWS managed rule groups (core rule set, SQL database, known bad
 * inputs, Linux/POSIX, EC2 metadata SSRF), covering every category of gatecheck's attack corpus:
 * enough for gatecheck's WAF check to have something real to measure, and conservative enough
 * that ordinary text ("O'Brien", "select a size", "drop me a line") passes.
 *
 * Every inspected part is normalised the way attackers' encodings are undone by WAF text
 * transformations: URL-decoded repeatedly (double encoding), `\uXXXX` and HTML entities decoded,
 * NUL bytes dropped, lower-cased. The rules then run on the normalised text.
 *
 * Pure: no I/O, no state. The server calls `wafVerdict` once per request.
 */

/** Where a match was found; names follow the AWS managed rules' suffixes (SQLi_QUERYARGUMENTS). */
export type WafPlacement = 'URIPATH' | 'QUERYARGUMENTS' | 'HEADER' | 'COOKIE' | 'BODY';

/** Rule families, named like the AWS managed rules they imitate. */
export type WafCategory =
  'SQLi' | 'CrossSiteScripting' | 'GenericLFI' | 'UNIXShellCommands' | 'Log4JRCE' | 'SSTI' | 'XXE' | 'SSRF' | 'NoSQLi';

export interface WafRequestParts {
  /** Path as sent, still percent-encoded, without the query string. */
  path: string;
  /** Query string as sent, without the leading `?` (empty or undefined when there is none). */
  query?: string;
  /**
   * Request headers with lower-case names (node's `req.headers`). Only `user-agent`, `referer`,
   * `cookie` and `x-*` are inspected, as AWS rule groups do; the rest are protocol plumbing.
   */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** Lower-case header names never inspected: the credential headers (a key is not an attack). */
  skipHeaders?: ReadonlySet<string>;
  /** Body text; only the first BODY_INSPECTION_LIMIT_BYTES are looked at. */
  body?: string;
}

export interface WafVerdict {
  blocked: boolean;
  /** `<Category>_<PLACEMENT>`, e.g. `SQLi_QUERYARGUMENTS`, when blocked. */
  rule?: string;
  /** Which pattern matched, e.g. `union-select`, when blocked. */
  signature?: string;
}

/** AWS WAF inspects the first 8 KB of a body for API Gateway; the rest passes unseen. */
export const BODY_INSPECTION_LIMIT_BYTES = 8 * 1024;

const PASS: WafVerdict = Object.freeze({ blocked: false });

/** Decides whether the WAF blocks a request; the first matching rule wins. */
export function wafVerdict(parts: WafRequestParts): WafVerdict {
  const path = inspect(parts.path, 'URIPATH', false);
  if (path) return path;
  if (parts.query) {
    const query = inspect(parts.query, 'QUERYARGUMENTS', true);
    if (query) return query;
  }
  if (parts.headers) {
    const headers = parts.headers;
    for (const name in headers) {
      if (!isInspectedHeader(name) || parts.skipHeaders?.has(name)) continue;
      const value = headers[name];
      if (value === undefined) continue;
      const placement: WafPlacement = name === 'cookie' ? 'COOKIE' : 'HEADER';
      const text = typeof value === 'string' ? value : value.join(', ');
      const hit = inspect(text, placement, false);
      if (hit) return hit;
    }
  }
  if (parts.body) {
    const body = parts.body.length > BODY_INSPECTION_LIMIT_BYTES ? parts.body.slice(0, BODY_INSPECTION_LIMIT_BYTES) : parts.body;
    // `+` means space in form bodies; in JSON it only ever turns `or+1=1` into `or 1=1`.
    const hit = inspect(body, 'BODY', true);
    if (hit) return hit;
  }
  return PASS;
}

function isInspectedHeader(name: string): boolean {
  return name === 'user-agent' || name === 'referer' || name === 'cookie' || name.startsWith('x-');
}

function inspect(raw: string, placement: WafPlacement, plusIsSpace: boolean): WafVerdict | undefined {
  if (raw.length === 0) return undefined;
  const text = normalize(raw, plusIsSpace);
  for (const rule of RULES) {
    if (rule.pattern.test(text)) return blocked(rule.category, placement, rule.signature);
  }
  if (text.includes('${') && hasJndiLookup(text)) return blocked('Log4JRCE', placement, 'jndi-lookup');
  return undefined;
}

function blocked(category: WafCategory, placement: WafPlacement, signature: string): WafVerdict {
  return { blocked: true, rule: `${category}_${placement}`, signature };
}

// --- Normalisation ------------------------------------------------------------------------------

/** Enough passes for triple encoding (`%25252e`); a fixed cap keeps the cost bounded. */
const MAX_DECODE_PASSES = 4;
const PERCENT_RUN = /(?:%[0-9a-fA-F]{2})+/g;
/** Overlong UTF-8 (`%c0%af` = `/`, `%e0%80%ae` = `.`): invalid, but old decoders (IIS) accepted it. */
const OVERLONG_UTF8 = /%c[01]%[89ab][0-9a-f]|%e0%[89][0-9a-f]%[89ab][0-9a-f]/gi;
const PERCENT_U = /%u([0-9a-fA-F]{4})/g;
/** JSON / JavaScript string escapes: `\u003c`, `\n`, `\"`, `\/`, `\\`. */
const JS_ESCAPE = /\\(?:u([0-9a-fA-F]{4})|([nrt/"\\]))/g;
const JS_SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '/': '/', '"': '"', '\\': '\\' };
const HTML_NUMERIC = /&#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}));?/g;
const HTML_NAMED = /&(lt|gt|quot|apos|amp|sol|colon|lpar|rpar|tab|newline);/gi;
const HTML_NAMED_CHARS: Record<string, string> = {
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  amp: '&',
  sol: '/',
  colon: ':',
  lpar: '(',
  rpar: ')',
  tab: '\t',
  newline: '\n',
};

/** Undoes the encodings attackers stack (URL, double URL, overlong UTF-8, JS escapes, HTML entities), then lower-cases. */
export function normalize(raw: string, plusIsSpace: boolean): string {
  // `+` is a space only in the encoded form: replace it before decoding so `%2B` stays a plus.
  let text = plusIsSpace && raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  for (let pass = 0; pass < MAX_DECODE_PASSES; pass++) {
    const before = text;
    if (text.includes('%'))
      text = text.replace(OVERLONG_UTF8, decodeOverlong).replace(PERCENT_RUN, decodePercentRun).replace(PERCENT_U, fromHex);
    if (text.includes('\\')) text = text.replace(JS_ESCAPE, fromJsEscape);
    if (text.includes('&'))
      text = text.replace(HTML_NUMERIC, fromEntity).replace(HTML_NAMED, (_m, name: string) => HTML_NAMED_CHARS[name.toLowerCase()] ?? '');
    if (text === before) break;
  }
  // `<scr\0ipt>`: browsers and many parsers drop NULs, so the rules must not be fooled by them.
  if (text.includes('\0')) text = text.replace(/\0/g, '');
  return text.toLowerCase();
}

/** A run of %XX is a byte sequence: decode it as UTF-8 (invalid bytes become U+FFFD, never throw). */
function decodePercentRun(run: string): string {
  return Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8');
}

/** Decodes an overlong sequence to the character it smuggles (the payload, not U+FFFD). */
function decodeOverlong(sequence: string): string {
  const bytes = sequence
    .split('%')
    .slice(1)
    .map((hex) => Number.parseInt(hex, 16));
  const code =
    bytes.length === 2
      ? ((bytes[0]! & 0x1f) << 6) | (bytes[1]! & 0x3f)
      : ((bytes[0]! & 0x0f) << 12) | ((bytes[1]! & 0x3f) << 6) | (bytes[2]! & 0x3f);
  return String.fromCharCode(code);
}

function fromJsEscape(_match: string, hex: string | undefined, simple: string | undefined): string {
  return hex !== undefined ? String.fromCharCode(Number.parseInt(hex, 16)) : JS_SIMPLE_ESCAPES[simple!]!;
}

function fromHex(_match: string, hex: string): string {
  return String.fromCharCode(Number.parseInt(hex, 16));
}

function fromEntity(match: string, hex: string | undefined, decimal: string | undefined): string {
  const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(decimal);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
}

// --- Rules --------------------------------------------------------------------------------------

interface Rule {
  category: WafCategory;
  signature: string;
  /**
   * Runs on normalised (decoded, lower-case) text. Never global (`g`): `test` would keep state.
   * Unambiguous or bounded repetitions only (`[^*]*` in comments, `{0,256}` in tags): a body of
   * 8 KB of `<a <a <a` must not make a regex backtrack quadratically.
   */
  pattern: RegExp;
}

/** Commands an injected shell fragment typically runs; ordinary words (echo, cat as in "cat lovers") need a separator before them. */
const SHELL_COMMANDS = [
  String.raw`(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|ping|rm|nslookup|powershell|`,
  String.raw`cmd(?:\.exe)?|python[23]?|perl|chmod|ifconfig|ipconfig|printenv|passwd|telnet|tftp)`,
].join('');
/** Inside `$( )` or backticks a few more words are commands, and so is any absolute path (`$(/bin/sh)`). */
const SUBSTITUTED_COMMANDS = String.raw`(?:(?:${SHELL_COMMANDS.slice(3, -1)}|sleep|echo|env)(?=[\s);|&<>\x60]|$)|/)`;

/** MongoDB query operators (`$ne`, `$where`, ...), for the NoSQLi rules. */
const MONGO_OPERATORS = String.raw`(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|expr|or|and|not|nor|elemmatch|size|type|mod|all)\b`;

const RULES: readonly Rule[] = [
  // SQL injection. Each pattern needs SQL syntax around the keyword, so prose with "or", "select"
  // or "drop" passes.
  // `or 1=1`, `' OR 'a'='a`, `and x=x`: a comparison of a value with itself after a boolean operator.
  { category: 'SQLi', signature: 'tautology', pattern: /\b(?:or|and|xor)\s+(['"`]?)(\w+)\1\s*(?:=|<=>|like\s)\s*['"`]?\2\b/ },
  // `' or ''='`, `' or true--`, `" || 1#`: a closed string, a boolean operator and a constant.
  { category: 'SQLi', signature: 'quote-boolean', pattern: /['"]\s*\)*\s*(?:or|\|\|)\s*(?:['"]{2}\s*=|(?:true|false|\d+)\s*(?:--|#|;|$))/ },
  {
    category: 'SQLi',
    signature: 'union-select',
    pattern: /\bunion(?:\s|\(|\/\*[^*]*\*\/)+(?:(?:all|distinct)(?:\s|\(|\/\*[^*]*\*\/)+)?select\b/,
  },
  // MySQL executes `/*!50000union*/` as code.
  { category: 'SQLi', signature: 'versioned-comment', pattern: /\/\*!\d*\s*(?:union|select|and|or)\b/ },
  {
    category: 'SQLi',
    signature: 'stacked-query',
    pattern: new RegExp(
      [
        String.raw`;\s*(?:drop\s+(?:table|database|schema)\b|truncate\s+table\b|alter\s+table\b|delete\s+from\b|`,
        String.raw`insert\s+into\b|update\s+\w+\s+set\b|exec(?:ute)?\s+(?:xp_|sp_)|shutdown\b)`,
      ].join(''),
    ),
  },
  // `admin'--`, `x' #`, `1')/*`: a string closed right after a word, then the rest commented out.
  // After a double quote only when nothing separates them, so prose like `he said "hi" -- then` passes.
  { category: 'SQLi', signature: 'comment-termination', pattern: /\w'\s*\)*\s*(?:--|#|\/\*)|\w"\)*(?:--|#|\/\*)/ },
  {
    category: 'SQLi',
    signature: 'time-delay',
    pattern: /\b(?:sleep|pg_sleep)\s*\(\s*\d+(?:\.\d+)?\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+delay\s+['"]/,
  },
  {
    category: 'SQLi',
    signature: 'schema-probe',
    pattern: /\binformation_schema\b|@@version\b|\bload_file\s*\(|\binto\s+(?:out|dump)file\b/,
  },

  // Cross-site scripting: markup or URLs that run script; `a < b` in code is not markup.
  { category: 'CrossSiteScripting', signature: 'script-tag', pattern: /<\s*\/?\s*script\b/ },
  // Browsers drop tabs and newlines inside a URL scheme: `jav&#x09;ascript:` runs.
  {
    category: 'CrossSiteScripting',
    signature: 'script-uri',
    pattern: new RegExp(String.raw`\b(?:${spread('java')}|${spread('vb')})${spread('script')}\s*:|\bdata\s*:\s*text/html\b`),
  },
  {
    category: 'CrossSiteScripting',
    signature: 'event-handler',
    pattern: new RegExp(
      [
        String.raw`\bon(?:error|load|click|dblclick|mouse(?:over|enter|out|down|up|move)|focus(?:in)?|blur|toggle|`,
        String.raw`begin|end|animation(?:start|end)|transitionend|pointer(?:over|enter|down)|input|change|submit|`,
        String.raw`unload|beforeunload|message|pageshow|hashchange|resize|scroll|wheel|key(?:down|up|press)|copy|`,
        String.raw`paste|drag(?:start)?|play|invalid|select|search)\s*=`,
      ].join(''),
    ),
  },
  // `<img src=x onerror=...>`, `<svg/onload=...>`: any tag carrying an `on*` attribute.
  {
    category: 'CrossSiteScripting',
    signature: 'html-handler',
    pattern: /<\s*[a-z][\w-]*[\s/][^>]{0,256}?[\s/"']on[a-z]+\s*=|<\s*svg[\s/]+on[a-z]/,
  },
  {
    category: 'CrossSiteScripting',
    signature: 'active-tag',
    pattern: /<\s*(?:iframe|object|embed|applet|frameset|base|meta\s[^>]{0,256}http-equiv)\b|\bdocument\s*\.\s*cookie\b/,
  },

  // Path traversal and local files.
  { category: 'GenericLFI', signature: 'path-traversal', pattern: /(?:^|[^.])\.\.[/\\]|[/\\]\.\.(?:$|[?#;])/ },
  {
    category: 'GenericLFI',
    signature: 'sensitive-file',
    pattern: new RegExp(
      [
        String.raw`\/etc\/(?:passwd|shadow|group|hosts|issue|sudoers)\b|\/proc\/self\/|\bc:[/\\]windows\b|\b(?:win|`,
        String.raw`boot|system)\.ini\b|\.ht(?:access|passwd)\b|\/\.env\b|\/\.git\/|\bweb-inf[/\\]web\.xml\b`,
      ].join(''),
    ),
  },

  // Shell command injection: a command after a shell separator, or inside $( ) or backticks.
  // A lone `&` is not a separator here: it separates query parameters (`?a=1&id=2`), and `=` after
  // the command word is excluded so cookies (`a=1; id=2`) pass. After a newline the command needs
  // an option, a path or a separator behind it, so a text line starting "id card" passes.
  {
    category: 'UNIXShellCommands',
    signature: 'command-chain',
    pattern: new RegExp(String.raw`(?:;|\|\|?|&&)\s*${SHELL_COMMANDS}(?=$|[\s;&|\x60)<>"'])|\n\s*${SHELL_COMMANDS}(?=$|[;&|]|\s+[-/$])`),
  },
  {
    category: 'UNIXShellCommands',
    signature: 'command-substitution',
    pattern: new RegExp(String.raw`\$\(\s*${SUBSTITUTED_COMMANDS}|\x60\s*${SUBSTITUTED_COMMANDS}[^\x60]{0,256}\x60`),
  },
  { category: 'UNIXShellCommands', signature: 'ifs-evasion', pattern: /\$\{ifs\}|\$ifs\$/ },

  // Log4Shell obfuscation: Log4j lookups that only serve to spell `jndi` (`${lower:j}`, `${::-n}`).
  // `${jndi:` itself, even assembled from nested lookups, is found by hasJndiLookup below.
  {
    category: 'Log4JRCE',
    signature: 'lookup-obfuscation',
    pattern: /\$\{\s*(?:::-|(?:lower|upper|env|sys|date|java|main|base64|ctx|jvmrunargs|log4j|marker|bundle|k8s|docker|spring|web)\s*:)/,
  },

  // Server-side template injection: arithmetic or object-graph walks inside template delimiters.
  // A plain `{{name}}` placeholder passes.
  {
    category: 'SSTI',
    signature: 'template-expression',
    pattern: new RegExp(
      [
        String.raw`\{\{[^}]{0,80}?(?:\d\s*[*/+-]\s*\d|__(?:class|globals|builtins|import|mro|subclasses)__|`,
        String.raw`\bconfig\b|\bself\b|\brequest\b|\blipsum\b|\bcycler\b|\bjoiner\b|\bconstructor\b)[^}]{0,80}?\}\}`,
      ].join(''),
    ),
  },
  {
    category: 'SSTI',
    signature: 'expression-language',
    pattern: /[$#*@]\{\s*\d+\s*[*/+-]\s*\d+\s*\}|<%=?\s*\d+\s*[*/+-]\s*\d+\s*%>|\$\{\s*t\s*\(\s*java\./,
  },

  // XML external entities: a DTD with an internal subset or an external id, entity declarations, XInclude.
  { category: 'XXE', signature: 'doctype-entity', pattern: /<!doctype\s+[\w:.-]+\s*(?:\[|system\b|public\b)|<!entity\s/ },
  { category: 'XXE', signature: 'xinclude', pattern: /<\s*xi\s*:\s*include\b|\bxmlns\s*:\s*xi\s*=/ },

  // Server-side request forgery, after AWS's EC2MetaDataSSRF rules: instance metadata addresses
  // (also spelt as one decimal or hex number), URLs to loopback or literal IPv6 hosts, and URL
  // schemes no client of an API sends (gopher, dict, file, ...).
  {
    category: 'SSRF',
    signature: 'metadata-address',
    pattern: new RegExp(
      [
        String.raw`(?:^|[^\d.])169\.254\.169\.254(?!\d)|\bmetadata\.google\.internal\b|\[?fd00:ec2::254\]?|`,
        String.raw`:\/\/(?:2852039166|0xa9fea9fe|0251\.0376\.0251\.0376)(?![\w.])`,
      ].join(''),
    ),
  },
  {
    category: 'SSRF',
    signature: 'loopback-url',
    pattern: new RegExp(
      [
        String.raw`\b(?:https?|ftp):\/\/(?:[^/@\s]*@)?(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|0x7f[0-9a-f.]*|`,
        String.raw`2130706433|\[[0-9a-f:.]*\])(?=[:/?#\s]|$)`,
      ].join(''),
    ),
  },
  { category: 'SSRF', signature: 'internal-scheme', pattern: /\b(?:gopher|dict|tftp|netdoc|jar|file):\/\// },

  // NoSQL injection: MongoDB query operators as parameter keys (`q[$ne]=`) or JSON keys
  // (`{"$gt": ""}`), and server-side JavaScript breaking out of a string.
  {
    category: 'NoSQLi',
    signature: 'operator-key',
    pattern: new RegExp(String.raw`\[\s*\$${MONGO_OPERATORS}\s*\]|[{,]\s*["']?\$${MONGO_OPERATORS}["']?\s*:`),
  },
  { category: 'NoSQLi', signature: 'javascript-breakout', pattern: /['"]\s*(?:;|\|\||&&)\s*(?:return\b|this\s*\.|sleep\s*\()/ },
];

/** `java` → a pattern for j, a, v, a with optional tabs and newlines in between. */
function spread(word: string): string {
  return [...word].join('[\\t\\n\\r]*');
}

// --- Log4Shell ----------------------------------------------------------------------------------

const JNDI = /\$\{\s*jndi\s*:/;
/** One innermost Log4j lookup that yields a literal: `${lower:j}`, `${::-j}`, `${env:X:-j}`, `${date:'j'}`. */
const INNER_LOOKUP = /\$\{[^${}]*?(?::-|:)'?([^${}':]*)'?\}/g;
const MAX_LOOKUP_PASSES = 8;

/**
 * `${jndi:` hidden behind nested lookups (`${${lower:j}ndi:...}`, `${${::-j}${::-n}di:...}`) is
 * found by collapsing innermost lookups into their literal, checking for `${jndi:` before each
 * pass (a collapse of `${jndi:ldap://x}` itself would erase the evidence).
 */
function hasJndiLookup(text: string): boolean {
  let current = text;
  for (let pass = 0; pass < MAX_LOOKUP_PASSES; pass++) {
    if (JNDI.test(current)) return true;
    const collapsed = current.replace(INNER_LOOKUP, '$1');
    if (collapsed === current) return false;
    current = collapsed;
  }
  return JNDI.test(current);
}
