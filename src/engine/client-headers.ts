import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** gatecheck's version, read once from package.json (src/engine and dist/engine are both two levels below it). */
export const GATECHECK_VERSION = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }
).version;

/**
 * What every request gatecheck sends says it is: AWS's managed core rule set blocks requests
 * without a User-Agent (`NoUserAgent_HEADER`), which would make every positive control fail.
 */
export const USER_AGENT = `gatecheck/${GATECHECK_VERSION}`;

/** The headers gatecheck adds to every request unless the policy or the probe sets them. */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = { 'user-agent': USER_AGENT };

/**
 * Request headers from layers, later layers winning, names compared without case (HTTP's rule):
 * defaults, then the policy's headers, then the probe's own (a WAF payload in the User-Agent, a
 * credential, an Origin). The one place headers are merged, so request signing can follow it.
 */
export function mergeHeaders(...layers: Array<Readonly<Record<string, string>> | undefined>): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer ?? {})) merged[name.toLowerCase()] = value;
  }
  return merged;
}
