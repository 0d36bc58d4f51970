/**
 * What a user reads when a policy is wrong: the whole message, snapshotted, over a table of the
 * mistakes people make (issue 13). A change in wording shows up here as a diff to review.
 */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/policy/errors.js';
import { parsePolicy } from '../../src/policy/load.js';
import { editDistance, nearMiss } from '../../src/policy/near-miss.js';

const HEAD = 'version: 1\ntarget: http://127.0.0.1:8080\n';

/** A route block (indented under `routes:`) → the policy text. */
const withRoute = (lines: string): string => `${HEAD}routes:\n  - method: GET\n    path: /api/items\n${lines}`;

const BAD_POLICIES: Array<[string, string]> = [
  ['path without its slash', `${HEAD}routes:\n  - method: GET\n    path: api/items\n    slo: { p99Ms: 5 }\n`],
  ['origin with a trailing slash', withRoute('    cors: { allowOrigins: [https://app.example.com/] }\n')],
  ['origin with a path', withRoute('    cors: { allowOrigins: [https://app.example.com/app] }\n')],
  ['origin without a scheme', withRoute('    cors: { allowOrigins: [app.example.com] }\n')],
  ['a string where a list belongs', withRoute('    cors:\n      allowOrigins: ["*"]\n      allowMethods: GET, POST\n')],
  ['a number where a list belongs', withRoute('    waf: { blockStatus: 403 }\n')],
  ['a value where settings belong', withRoute('    throttle: 50\n')],
  ['ratelimit (case)', withRoute('    throttle: { ratelimit: 50, burstLimit: 20 }\n')],
  ['throtle (a letter short)', withRoute('    throtle: { rateLimit: 50, burstLimit: 20 }\n')],
  ['a key that is nothing like one', withRoute('    throttle: { rateLimit: 50, burstLimit: 20, speed: 3 }\n')],
  ['top-level misspelling', `${HEAD}vendr: aws-rest\nroutes:\n  - { method: GET, path: /a, slo: { p99Ms: 5 } }\n`],
  ['enum near miss', `${HEAD}vendor: aws_rest\nroutes:\n  - { method: GET, path: /a, slo: { p99Ms: 5 } }\n`],
  ['unknown method', `${HEAD}routes:\n  - { method: FETCH, path: /a, slo: { p99Ms: 5 } }\n`],
  ['method near miss', `${HEAD}routes:\n  - { method: PSOT, path: /a, slo: { p99Ms: 5 } }\n`],
  [
    'header name with a colon',
    `${HEAD}credentials:\n  main: { header: "x-api-key:", value: k }\nroutes:\n  - { method: GET, path: /a, slo: { p99Ms: 5 } }\n`,
  ],
  ['an empty list', withRoute('    okStatus: []\n    slo: { p99Ms: 5 }\n')],
  ['a list item twice', withRoute('    waf: { blockStatus: [403], placements: [query, query] }\n')],
  ['a whole number expected', withRoute('    throttle: { rateLimit: 50, burstLimit: 2.5 }\n')],
  [
    'unset variable beside schema errors',
    `${HEAD}credentials:\n  main: { value: "\${UNSET_KEY}" }\n` +
      'routes:\n  - method: GET\n    path: api\n    auth: { required: yes please, credential: main }\n',
  ],
];

function messageOf(text: string): string {
  try {
    parsePolicy(text, 'p.yaml', { env: {} });
  } catch (error) {
    if (error instanceof PolicyError) return error.message;
    throw error;
  }
  return '(accepted)';
}

describe('policy error messages', () => {
  it('teach the fix, one message per mistake', () => {
    const text = BAD_POLICIES.map(([name, policy]) => `# ${name}\n${messageOf(policy)}`).join('\n');
    // The messages are as long as they are (a list of the keys allowed): the snapshot keeps each on one line.
    /* eslint-disable max-len */
    expect(text).toMatchInlineSnapshot(`
      "# path without its slash
      p.yaml:5: routes[0].path: must start with / (e.g. "/api/items")
      # origin with a trailing slash
      p.yaml:6: routes[0].cors.allowOrigins[0]: an origin has no path: drop the trailing / ("https://app.example.com")
      # origin with a path
      p.yaml:6: routes[0].cors.allowOrigins[0]: an origin has no path: drop "/app" ("https://app.example.com")
      # origin without a scheme
      p.yaml:6: routes[0].cors.allowOrigins[0]: must be scheme://host[:port], "*" or "null" (got "app.example.com")
      # a string where a list belongs
      p.yaml:8: routes[0].cors.allowMethods: must be a list, e.g. [GET, POST]
      # a number where a list belongs
      p.yaml:6: routes[0].waf.blockStatus: must be a list, e.g. [403]
      # a value where settings belong
      p.yaml:6: routes[0].throttle: must be a block of settings (rateLimit, burstLimit, tolerance, …), not a single value
      # ratelimit (case)
      p.yaml:6: routes[0].throttle.ratelimit: unknown key: did you mean \`rateLimit\`?
      # throtle (a letter short)
      p.yaml:6: routes[0].throtle: unknown key: did you mean \`throttle\`?
      # a key that is nothing like one
      p.yaml:6: routes[0].throttle.speed: unknown key (allowed here: rateLimit, burstLimit, tolerance, credential, probeSeconds, status, algorithm, windowSec, allowDelayMs)
      # top-level misspelling
      p.yaml:3: vendr: unknown key: did you mean \`vendor\`?
      # enum near miss
      p.yaml:3: vendor: must be one of "aws-rest", "aws-http", "plain": did you mean "aws-rest"?
      # unknown method
      p.yaml:4: routes[0].method: must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (any case), got "FETCH"
      # method near miss
      p.yaml:4: routes[0].method: must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (any case), got "PSOT": did you mean POST?
      # header name with a colon
      p.yaml:4: credentials.main.header: must be a header name: letters, digits and -, no spaces or colons (got "x-api-key:")
      # an empty list
      p.yaml:6: routes[0].okStatus: must list at least one item
      # a list item twice
      p.yaml:6: routes[0].waf.placements: lists "query" twice
      # a whole number expected
      p.yaml:6: routes[0].throttle.burstLimit: must be a whole number
      # unset variable beside schema errors
      p.yaml:4: credentials.main.value: environment variable UNSET_KEY is not set
      p.yaml:7: routes[0].path: must start with / (e.g. "/api")
      p.yaml:8: routes[0].auth.required: must be true or false"
    `);
    /* eslint-enable max-len */
  });

  it('accept methods in any case and use them upper-case', () => {
    const text = `${HEAD}routes:\n  - method: post\n    path: /a\n    cors: { allowOrigins: ["*"], allowMethods: [get, Post] }\n`;
    const route = parsePolicy(text, 'p.yaml', { env: {} }).routes[0]!;
    expect([route.id, route.method, route.cors?.allowMethods]).toEqual(['POST /a', 'POST', ['GET', 'POST']]);
  });

  it('find a duplicate route whatever the case of its methods', () => {
    const text = `${HEAD}routes:\n  - { method: get, path: /a, slo: { p99Ms: 5 } }\n  - { method: GET, path: /a, slo: { p99Ms: 5 } }\n`;
    expect(messageOf(text)).toBe('p.yaml:5: routes[1]: duplicates routes[0] (GET /a)');
  });
});

describe('near miss', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['rateLimit', 'rateLimit', 0],
    ['throtle', 'throttle', 1],
    ['PSOT', 'POST', 1],
  ])('distance(%s, %s) = %i', (a, b, d) => expect(editDistance(a, b)).toBe(d));

  it.each([
    ['ratelimit', 'rateLimit'],
    ['throtle', 'throttle'],
    ['burst', undefined],
    ['rate', undefined],
    ['vendr', 'vendor'],
  ])('%s → %s', (word, meant) => expect(nearMiss(word, ['rateLimit', 'burstLimit', 'throttle', 'vendor'])).toBe(meant));
});
