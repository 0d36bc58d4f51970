import { nearMiss } from '../policy/near-miss.js';

/**
 * yargs' own words for a command line it cannot parse, said for a person: what to type instead.
 * Anything not listed passes through unchanged.
 */
export function humanUsageMessage(message: string, argv: readonly string[]): string {
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = words[0];
  // recommendCommands(): yargs found a command within a few letters of an unknown one.
  const meant = /^Did you mean (\S+)\?$/.exec(message)?.[1];
  if (meant !== undefined && command !== undefined) {
    // yargs suggests anything within three edits (`frob` → `run`); only a real near miss is offered.
    return nearMiss(command, [meant]) !== undefined
      ? `Unknown command ${command}: did you mean ${meant}?`
      : `Unknown command ${command} (gatecheck --help lists the commands)`;
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(message)?.[1]?.split(', ');
  if (unknown && command !== undefined && unknown.includes(command) && argv[0] === command)
    return `Unknown command ${command} (gatecheck --help lists the commands)`;
  // `--polcy x`: yargs first misses --policy; the flag that was meant is the better news.
  const missing = /^Missing required arguments?: (.*)$/.exec(message)?.[1]?.split(', ');
  if (missing) {
    const given = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!);
    for (const flag of given) {
      const meant = missing.includes(flag) ? undefined : nearMiss(flag, missing);
      if (meant !== undefined) return `Unknown option --${flag}: did you mean --${meant}?`;
    }
  }
  if (message.startsWith('Not enough non-option arguments') && command !== undefined) {
    const forms: Record<string, string> = {
      export: 'export needs a format: gatecheck export k6 --policy FILE --out DIR',
      import: 'import needs a format and the result files: gatecheck import k6 FILE... [--policy FILE]',
    };
    return forms[command] ?? message;
  }
  return message;
}

/**
 * An example as two lines, the command whole and then what it does as a shell comment: yargs
 * sets examples in two columns, half the width each, and would break a long command mid-way;
 * this way the command can be copied (with its comment, even) and pasted as it is.
 */
export function example(command: string, what: string): [string, string] {
  return [`${command}\n    # ${what}`, ''];
}
