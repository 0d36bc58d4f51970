/**
 * A canary release as the reference gateway does it: a route with `canary` sends its share of
 * the answers through the "canary deployment", which marks them as the policy says (a header or
 * a top-level JSON body field), as a backend echoing a stage-variable override would.
 *
 * The split is dealt from shuffled decks of 100 answers holding exactly `percent` canary ones
 * (rounded), not drawn per request as AWS does: the reference gateway's share over any few
 * hundred answers is then within a deck's worth of the configured one, so the demo and the
 * e2e tests give the same verdict every run, while the check itself reads a per-request
 * (Bernoulli) split with its Wilson interval, as it must for AWS.
 */
import { randomInt } from 'node:crypto';
import type { CanaryPolicy } from '../policy/types.js';

export const CANARY_DECK_SIZE = 100;

export class CanaryDeck {
  private deck: boolean[] = [];

  constructor(readonly percent: number) {}

  /** True when this answer is the canary's. */
  next(): boolean {
    if (this.deck.length === 0) this.deck = shuffled(Math.round((this.percent / 100) * CANARY_DECK_SIZE));
    return this.deck.pop()!;
  }
}

/** A deck of CANARY_DECK_SIZE with `canaries` true cards, Fisher-Yates shuffled. */
function shuffled(canaries: number): boolean[] {
  const deck = Array.from({ length: CANARY_DECK_SIZE }, (_, i) => i < canaries);
  for (let i = deck.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [deck[i], deck[j]] = [deck[j]!, deck[i]!];
  }
  return deck;
}

/** The canary's answer: the marker header set, or the marker field added to the JSON body. */
export function markCanary(marker: CanaryPolicy['marker'], headers: Record<string, string | number>, body: Buffer): Buffer {
  if (marker.header !== undefined) {
    headers[marker.header.toLowerCase()] = marker.value;
    return body;
  }
  if (marker.bodyField === undefined || body.length === 0) return body;
  const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const marked = Buffer.from(JSON.stringify({ ...parsed, [marker.bodyField]: marker.value }));
  headers['content-length'] = marked.length;
  return marked;
}
