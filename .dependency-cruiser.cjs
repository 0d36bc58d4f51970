// Module boundaries of src/, enforced by `npm run lint:deps` (dependency-cruiser).
// The flow is one way: policy → engine → checks → run → report, with the CLI on top of everything.
// Paths are relative to the repository root; each folder pattern ends in '/' so 'src/run' never matches 'src/runner'.
//
// Type-only imports. `tsPreCompilationDeps: 'specify'` makes dependency-cruiser see every import (also `import type`)
// and mark the ones the TypeScript compiler erases with `preCompilationOnly: true`. Rules that are about what runs
// (cycles, the report's runtime imports, devDependencies) match only `preCompilationOnly: false`: a type-only import
// loads nothing at runtime, so it cannot create an initialisation cycle or pull the engine into the report.
// The layer rules match every import, types included: a layer that names another layer's types depends on it.

/** Forbid imports from one src folder to others (every import, type-only ones included). */
function layer(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: `^src/${from}/` }, to: { path: `^src/(${to.join('|')})/` } };
}

/** Forbid every import from a src folder to any other src folder except those listed. */
function onlyImports(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: '^src/', pathNot: `^src/(${[from, ...allowed].join('|')})/` },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A runtime import cycle: modules that load each other see half-initialised exports. Cycles made only of ' +
        'type-only imports are erased by tsc and are not reported (see the note at the top).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['pre-compilation-only'] } },
    },
    {
      name: 'no-import-of-cli',
      comment: 'src/cli is the top of the tree: only bin/ (through dist/) loads it. Nothing in src/ may import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    layer('run-not-to-cli', 'The runner is driven by the CLI; it never calls back into it.', 'run', ['cli']),
    layer(
      'checks-not-to-upper-layers',
      'Checks know the engine, the policy and their own types. They are scheduled by src/run and rendered by ' +
        'src/report (render/<kind>.ts), so they must not import those, nor the CLI, k6 export, bench or gateway.',
      'checks',
      ['run', 'cli', 'report', 'k6', 'bench', 'gateway', 'gate'],
    ),
    onlyImports(
      'gate-only-to-checks-and-policy',
      'The release gate settles verdicts from findings (data): it reads the types of src/checks and the ' +
        "policy's gate level, and nothing of the engine, the runner, the report or the CLI.",
      'gate',
      ['checks', 'policy'],
    ),
    layer(
      'engine-not-to-upper-layers',
      'The engine (HTTP client, pacing, budget, observation stream) knows nothing about checks, runs or reports.',
      'engine',
      ['checks', 'run', 'cli', 'report', 'k6', 'bench', 'gateway'],
    ),
    {
      name: 'report-runtime-imports',
      comment:
        'The report renders results (data). It may name the types of src/checks, src/engine etc., but loads no ' +
        'code from the engine, the runner, the CLI, the gateway or the k6 export.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/(engine|run|cli|gateway|k6)/', preCompilationOnly: false },
    },
    {
      name: 'report-checks-types-only',
      comment:
        "The report may import from src/checks only what tsc erases (types: each kind's Observed, CheckResult), " +
        'plus the shared type modules types.ts and contract.ts: never a check implementation.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/checks/', pathNot: '^src/checks/(types|contract)[.]ts$', preCompilationOnly: false },
    },
    onlyImports(
      'gateway-only-to-policy',
      'The reference gateway is a separate program under test: it reads the policy (types today) and nothing of ' +
        'the tester, so a bug in the engine cannot make the gateway agree with it.',
      'gateway',
      ['policy'],
    ),
    onlyImports(
      'aws-reads-only',
      'src/aws reads what AWS is configured to enforce (DeployedConfig) through the SDK and nothing else: it knows ' +
        'no policy, check, run or report, so the configuration it returns cannot be shaped by what it is compared with.',
      'aws',
      [],
    ),
    onlyImports(
      'drift-only-to-aws-checks-policy',
      'src/drift writes policies from a DeployedConfig and compares the three sides (pure): it reads src/aws types, ' +
        "the policy and the checks' result types and finding helper; the runner calls it, never the reverse.",
      'drift',
      ['aws', 'checks', 'policy'],
    ),
    onlyImports('policy-imports-nothing', 'The policy (schema, loader, types) is the bottom layer.', 'policy', []),
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve to a file or package on disk.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'A package imported by src/ but not declared in package.json: it works only by accident of hoisting.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'src/ is shipped (dist/) and installed without devDependencies: it may not load one at runtime. ' +
        'Type-only imports of @types/* and the like are erased and therefore fine.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], preCompilationOnly: false },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]d[.]ts$' },
    tsPreCompilationDeps: 'specify',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
