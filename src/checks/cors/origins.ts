/**
 * Origins that must NOT be allowed, derived from each allowed origin the way CORS scanners
 * (CORScanner, Corsy) probe for broken origin matching. Each names the mistake it would expose.
 */
export interface HostileOrigin {
  origin: string;
  /** The matching bug this origin gets through. */
  bypass: string;
}

const EVIL = 'gatecheck-evil';

/** The first hostile origin, unrelated to any allowed one: a gateway that lets it read lets every origin read. */
export const ARBITRARY_ORIGIN = `https://${EVIL}.example`;

export function hostileOrigins(allowOrigins: string[]): HostileOrigin[] {
  const out: HostileOrigin[] = [
    { origin: ARBITRARY_ORIGIN, bypass: 'arbitrary origin reflected' },
    { origin: 'null', bypass: '"null" origin allowed (sandboxed iframes, file: pages)' },
  ];
  for (const allowed of allowOrigins) {
    if (allowed === '*' || allowed === 'null') continue;
    const url = new URL(allowed);
    const host = url.host;
    const port = url.port ? `:${url.port}` : '';
    const hostname = url.hostname;
    out.push({ origin: `${url.protocol}//${host}.${EVIL}.tld`, bypass: `prefix match on ${allowed}` });
    out.push({ origin: `${url.protocol}//${EVIL}${hostname}${port}`, bypass: `suffix match on ${allowed}` });
    out.push({ origin: `${url.protocol}//${EVIL}.${hostname}${port}`, bypass: `any subdomain of ${allowed}` });
    // A sibling under the parent domain: trusting *.example.com (or *.github.io, *.netlify.app,
    // where anyone can host a page) for app.example.com.
    const parent = hostname.split('.').slice(1).join('.');
    if (parent.includes('.'))
      out.push({ origin: `${url.protocol}//${EVIL}.${parent}${port}`, bypass: `any host under ${parent} (sibling of ${allowed})` });
    const lastDot = hostname.lastIndexOf('.');
    const firstDot = hostname.indexOf('.');
    if (firstDot > 0 && firstDot !== lastDot) {
      // `app.example.com` matched by the regex app.example.com also matches appxexample.com.
      out.push({
        origin: `${url.protocol}//${hostname.slice(0, firstDot)}x${hostname.slice(firstDot + 1)}${port}`,
        bypass: `unescaped dot in a pattern for ${allowed}`,
      });
    }
    out.push({ origin: `${url.protocol}//${hostname}_.${EVIL}.tld${port}`, bypass: `special character after the host of ${allowed}` });
    if (url.protocol === 'https:')
      out.push({ origin: `http://${host}`, bypass: `http:// accepted for ${allowed} (a network attacker can inject it)` });
  }
  // A hostile origin that the policy itself lists is not hostile.
  const allowed = new Set(allowOrigins);
  const seen = new Set<string>();
  return out.filter((o) => !allowed.has(o.origin) && !seen.has(o.origin) && seen.add(o.origin));
}
