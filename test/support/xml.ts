/**
 * A small XML well-formedness check for the files gatecheck writes (SVG charts): one root element,
 * tags nested and closed in order, attributes quoted, `&` only in entity or character references.
 * Not a validating parser: enough to catch a broken file, with nothing to install.
 */
const TAG = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const AMPERSAND = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

export function xmlErrors(text: string): string[] {
  const body = text
    .replace(/^\uFEFF?<\?xml[^?]*\?>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const errors: string[] = [];
  const open: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < body.length) {
    const lt = body.indexOf('<', at);
    const chars = body.slice(at, lt < 0 ? body.length : lt);
    if (AMPERSAND.test(chars)) errors.push(`bare & in text at ${at}`);
    if (open.length === 0 && chars.trim()) errors.push(`text outside the root at ${at}`);
    if (lt < 0) break;
    TAG.lastIndex = lt;
    const tag = TAG.exec(body);
    if (!tag) {
      errors.push(`malformed tag at ${lt}: ${body.slice(lt, lt + 40)}`);
      break;
    }
    const [whole, closing, name, attributes, selfClosing] = tag;
    if (AMPERSAND.test(attributes!)) errors.push(`bare & in the attributes of <${name}>`);
    if (closing) {
      const expected = open.pop();
      if (expected !== name) errors.push(`</${name}> closes <${expected ?? 'nothing'}>`);
    } else {
      if (open.length === 0) roots++;
      if (!selfClosing) open.push(name!);
    }
    at = lt + whole.length;
  }
  if (open.length > 0) errors.push(`not closed: ${open.join(', ')}`);
  if (roots !== 1) errors.push(`${roots} root elements`);
  return errors;
}
