/**
 * The help is part of the interface (issue 13): every command's `--help`, snapshotted, plus the
 * rules a snapshot cannot see. A command added later gets its own snapshot: review it, then
 * `npx vitest run test/cli/help.test.ts -u`. main() runs in-process (the built CLI's code path,
 * without a Node start-up per command); one check runs the built CLI to show it prints the same.
 */
import { describe, expect, it } from 'vitest';
import { runCli, runMain } from '../support/cli.js';

const gatecheck = (args: string[]) => runMain(args);

const topLevel = await gatecheck(['--help']);
/** The commands the top-level help lists: a new one is picked up without editing this file. */
const COMMANDS = [...topLevel.stdout.matchAll(/^ {2}gatecheck (\w+)/gm)].map((m) => m[1]!);

/** The rules every help text keeps, whatever its words. */
function problems(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    // cliui sets a long description flush against its type: `README[string]`.
    if (/[^\s[]\[(string|number|boolean|array|required|default|choices)/.test(line)) found.push(`glued: ${line.trim()}`);
    // yargs' default for an array flag or a variadic positional: noise beside [required], or no default at all.
    if (line.includes('[default: []]')) found.push(`empty default: ${line.trim()}`);
  }
  // One default per option: `--workers` once showed the machine's and its own in words.
  for (const block of text.split(/\n(?= {2}-|\s{6}--)/)) {
    if ((block.match(/\[default:/g) ?? []).length > 1) found.push(`two defaults: ${block.trim().split('\n')[0]}`);
  }
  // Examples come as a whole command line, then a "# what it does" line: nothing wraps mid-command.
  const examples = text.split('\nExamples:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
  examples.forEach((line, i) => {
    const comment = line.trimStart().startsWith('# ');
    if (comment !== (i % 2 === 1)) found.push(`example out of step: ${line.trim()}`);
  });
  return found;
}

describe('help', () => {
  it('lists the commands', () => {
    expect(topLevel.code).toBe(0);
    expect(COMMANDS).toEqual(expect.arrayContaining(['run', 'validate', 'bench', 'export', 'import']));
    expect(topLevel.stdout).toMatchSnapshot();
  });

  it.each(COMMANDS)('%s --help is true, and stays so', async (command) => {
    const help = await gatecheck([command, '--help']);
    expect(help.code).toBe(0);
    expect(problems(help.stdout)).toEqual([]);
    expect(help.stdout).toMatchSnapshot();
  });

  it('says what bench --saturate runs on, with one default per flag', async () => {
    const help = (await gatecheck(['bench', '--help'])).stdout;
    expect(help).not.toContain('with autocannon');
    expect(help).toContain('[default: "raw"]');
    expect(help).toContain('[default: cores, at most 4]');
  });

  it('is what the built CLI prints', async () => {
    const built = await runCli(['bench', '--help']);
    expect(built.stdout).toBe((await gatecheck(['bench', '--help'])).stdout);
  });
});

describe('a command line that is not one', () => {
  it.each([
    [['runn', '--policy', 'p.yaml'], 'gatecheck: Unknown command runn: did you mean run?'],
    [['valdate'], 'gatecheck: Unknown command valdate: did you mean validate?'],
    [['run', '--polcy', 'p.yaml'], 'gatecheck: Unknown option --polcy: did you mean --policy?'],
    [['run'], 'gatecheck: Missing required argument: policy'],
    [['frobnicate'], 'gatecheck: Unknown command frobnicate (gatecheck --help lists the commands)'],
    [['export'], 'gatecheck: export needs a format: gatecheck export k6 --policy FILE --out DIR'],
    [['import'], 'gatecheck: import needs a format and the result files: gatecheck import k6 FILE... [--policy FILE]'],
    [['bench', '--path', '/x'], 'gatecheck: bench needs a target: --target URL, or --policy FILE whose `target` is set'],
    [
      ['bench', '--target', 'http://127.0.0.1:9', '--header', 'secret-without-colon'],
      'gatecheck: --header: the first is not "Name: value"',
    ],
  ])('%j → exit 2: %s', async (args, message) => {
    const run = await gatecheck(args);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr).not.toContain('secret-without-colon');
    expect(run.code).toBe(2);
  });
});
