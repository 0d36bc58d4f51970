import { expect } from 'vitest';
import { PolicyError } from '../../src/policy/errors.js';
import { parsePolicy } from '../../src/policy/load.js';

/** The `path: message` lines a rejected policy produces; fails the test if it is accepted. */
export function policyIssues(text: string, env: Record<string, string> = {}): string[] {
  try {
    parsePolicy(text, 'p.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the policy to be rejected');
}
