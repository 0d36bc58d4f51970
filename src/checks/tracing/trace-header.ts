/**
 * X-Amzn-Trace-Id, read leniently: `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1|?}`,
 * fields in any order, names in any case, spaces around them and extra fields (Lineage, Self, …)
 * allowed. Only Root is required to be well-formed: it is what ties the answer to a trace.
 */
import { randomBytes } from 'node:crypto';

export interface TraceHeader {
  /** `1-5759e988-bd862e3fe1be46a994272793`, when present and well-formed. */
  root?: string;
  parent?: string;
  sampled?: string;
  /** Every field as written, lower-cased names. */
  fields: Record<string, string>;
}

export const TRACE_ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;

export function parseTraceHeader(value: string): TraceHeader {
  const fields: Record<string, string> = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    fields[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  const root = fields['root'];
  return {
    ...(root !== undefined && TRACE_ROOT.test(root) ? { root: root.toLowerCase() } : {}),
    ...(fields['parent'] !== undefined ? { parent: fields['parent'] } : {}),
    ...(fields['sampled'] !== undefined ? { sampled: fields['sampled'] } : {}),
    fields,
  };
}

/** A fresh trace header as an X-Ray SDK starts one: the Root the answer must keep. */
export function newTraceHeader(epochMs = Date.now()): { root: string; header: string } {
  const root = `1-${Math.floor(epochMs / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  return { root, header: `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=1` };
}
