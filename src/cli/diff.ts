import { example } from './help.js';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { diffFindings, findingIds, gatesAt, type DiffEntry, type FindingsDiff } from '../gate/diff.js';
import { DEFAULT_GATE, GATE_LEVELS, type GateLevel, type GateOptions } from '../gate/gate.js';
import { EXIT_CODES, type RunReport } from '../report/model.js';
import { readReportFile, ReportFileError, type ReadReport } from '../report/read.js';
import { appendStepSummary } from './ci.js';
import type { CliIo } from './io.js';

/**
 * Baselines on the command line: `gatecheck diff OLD NEW` compares two report.json files, and
 * `run --baseline OLD` (judge, import k6) makes the old report's findings non-gating and prints the
 * same comparison after the summary. The comparison itself is src/gate/diff.ts.
 */

type SetExit = (code: number) => void;

export interface DiffArgs {
  old: string;
  new: string;
  /** --fail-on; else the new report's gate.failOn; else high. */
  failOn?: GateLevel;
  json: boolean;
}

/** Where the diff's gate came from, for the line that states it. */
type GateSource = '--fail-on' | "the new report's gate.failOn" | 'the default';

/** `gatecheck diff` for yargs: cli/main.ts registers it with one `.command(...)`. */
export function diffCommandModule(io: CliIo, setExit: SetExit): CommandModule {
  return {
    command: 'diff <old> <new>',
    describe: 'Compare the findings of two report.json files: new, fixed and unchanged; exit 1 when a new one fails the gate',
    builder: (y: Argv) =>
      y
        .positional('old', { type: 'string', describe: 'The earlier report.json (the baseline: a main-branch or last-release run)' })
        .positional('new', { type: 'string', describe: 'The later report.json' })
        .option('fail-on', {
          choices: GATE_LEVELS,
          describe: "Lowest severity of a NEW finding that fails (default: the new report's gate.failOn, else high)",
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the comparison as JSON (exit codes unchanged)' })
        .example(
          ...example(
            '$0 diff reports/main/report.json reports/pr/report.json',
            'exit 1 when the second run has a new finding at or above the gate',
          ),
        )
        .example(...example('$0 diff old.json new.json --fail-on medium --json > diff.json', 'a stricter gate, machine-readable')),
    handler: async (raw) => {
      const args = raw as unknown as { old: string; new: string; 'fail-on'?: GateLevel; json: boolean };
      const failOn = args['fail-on'] ? { failOn: args['fail-on'] } : {};
      setExit(await diffCommand(io, { old: args.old, new: args.new, json: args.json, ...failOn }));
    },
  };
}

/** Exit 1 when a new finding is at or above the gate, 0 otherwise; bad input (a file that is not a report) throws ReportFileError (2). */
export async function diffCommand(io: CliIo, args: DiffArgs): Promise<number> {
  const old = reportOrUsageError(io, args.old, 'OLD');
  const next = reportOrUsageError(io, args.new, 'NEW');
  const { failOn, source } = diffGate(args.failOn, next);
  const diff = diffFindings(old, { ...next, ungraded: next.schemaVersion === '1.0' });
  const gating = diff.new.filter((entry) => gatesAt(entry, failOn));
  const result = gating.length > 0 ? 'fail' : 'pass';
  const verdict =
    result === 'fail'
      ? `FAIL: ${plural(gating.length, 'new finding')} at or above it`
      : `PASS: no new finding at or above it${diff.new.length > 0 ? ` (${plural(diff.new.length, 'new finding')} below it)` : ''}`;
  const text = [
    `gatecheck diff: ${counts(diff)}\n`,
    `  old: ${describeReport(args.old, old)}\n  new: ${describeReport(args.new, next)}\n`,
    ...versionNotes(args.old, old, args.new, next).map((note) => `  note: ${note}\n`),
    `\n${diffSections(diff, (entry) => gatesAt(entry, failOn), true)}\n`,
    `Gate: ${failOn} (${source}). ${verdict}\n`,
  ].join('');
  if (args.json) {
    const json = { oldFile: args.old, newFile: args.new, failOn, result, gating: gating.map((e) => e.id), ...diff };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    io.stdout.write(text);
  }
  await appendStepSummary(io, `### gatecheck diff: ${result.toUpperCase()}\n\n\`\`\`text\n${text}\`\`\``);
  return result === 'fail' ? EXIT_CODES.fail : EXIT_CODES.pass;
}

/**
 * `--baseline FILE` read before any traffic: the gate options that make its findings non-gating and let
 * report.json record the comparison. A file that is not a report is bad input (exit 2).
 */
export function baselineGate(io: CliIo, file: string): Pick<GateOptions, 'baselineIds' | 'baseline'> {
  const report = reportOrUsageError(io, file, '--baseline');
  if (report.schemaVersion === '1.0' && findingIds(report).size === 0)
    io.stderr.write(
      `gatecheck: warning: --baseline ${file} is a schemaVersion 1.0 report without findings: every finding of this run is new\n`,
    );
  const checks = report.checks.map((c) => ({ id: c.id, status: c.status, findings: c.findings ?? [] }));
  return { baselineIds: findingIds(report), baseline: { file, report: { checks } } };
}

/** The lines a run with --baseline prints after its summary; '' without one. */
export function baselineLines(gate: Pick<GateOptions, 'baseline'>, report: RunReport): string {
  if (!gate.baseline) return '';
  const diff = diffFindings(gate.baseline.report, report);
  const head = `Baseline ${gate.baseline.file}: ${counts(diff)} (findings already in the baseline do not gate)`;
  return `\n${head}\n${diffSections(diff, (entry) => entry.disposition === 'gating', false)}`;
}

/** The diff as sections, most severe first in each; `✗` marks a new finding that fails the gate. */
export function diffSections(diff: FindingsDiff, gates: (entry: DiffEntry) => boolean, listUnchanged: boolean): string {
  const sections: string[] = [];
  sections.push(section('NEW', diff.new, gates));
  sections.push(section('FIXED', diff.fixed, () => false));
  if (diff.unverified.length > 0)
    sections.push(section('NOT RECHECKED (their check did not decide or did not run)', diff.unverified, () => false));
  if (listUnchanged) sections.push(section('UNCHANGED', diff.unchanged, () => false, true));
  return sections.join('');
}

function section(title: string, entries: DiffEntry[], gates: (entry: DiffEntry) => boolean, collapseInfo = false): string {
  if (entries.length === 0) return `${title} (0)\n`;
  const shown = collapseInfo ? entries.filter((e) => e.severity !== 'info') : entries;
  const hidden = entries.length - shown.length;
  const lines = shown.map((entry) => entryLine(entry, gates(entry)));
  if (hidden > 0) lines.push(`    ${shown.length > 0 ? 'and ' : ''}${hidden} info (what was learned)`);
  return `${title} (${entries.length})\n${lines.join('\n')}\n`;
}

/** One finding a line, for terminals and CI logs alike: mark, severity, id, title, notes. */
function entryLine(entry: DiffEntry, gates: boolean): string {
  const notes = [
    entry.previousSeverity ? `was ${entry.previousSeverity}` : '',
    entry.explicit ? 'gates at any level' : '',
    entry.disposition === 'accepted' ? 'accepted' : '',
  ].filter(Boolean);
  const tail = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  return `  ${gates ? '✗' : ' '} ${entry.severity.padEnd(8)} ${entry.id} — ${short(entry.title)}${tail}`;
}

/** A title on one line of a log; report.md and report.json have it whole. */
function short(title: string): string {
  const line = title.replace(/\s+/g, ' ');
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line;
}

const TITLE_CHARS = 100;

function counts(diff: FindingsDiff): string {
  const parts = [`${diff.new.length} new`, `${diff.fixed.length} fixed`, `${diff.unchanged.length} unchanged`];
  if (diff.unverified.length > 0) parts.push(`${diff.unverified.length} not rechecked`);
  return parts.join(', ');
}

function diffGate(flag: GateLevel | undefined, next: ReadReport): { failOn: GateLevel; source: GateSource } {
  if (flag) return { failOn: flag, source: '--fail-on' };
  if (next.gate) return { failOn: next.gate.failOn, source: "the new report's gate.failOn" };
  return { failOn: DEFAULT_GATE, source: 'the default' };
}

function describeReport(file: string, report: ReadReport): string {
  return `${file} (${report.verdict}, ${report.finishedAt}, ${report.target})`;
}

/** Reports from before findings (schemaVersion 1.0) have none: say so, so an empty side is not read as a clean one. */
function versionNotes(oldFile: string, old: ReadReport, newFile: string, next: ReadReport): string[] {
  const notes: string[] = [];
  if (old.schemaVersion === '1.0')
    notes.push(`${oldFile} is schemaVersion 1.0 (before graded findings): it has none, so every finding of the new report is new`);
  if (next.schemaVersion === '1.0')
    notes.push(`${newFile} is schemaVersion 1.0 (before graded findings): it has none, so nothing is new and no old finding is rechecked`);
  return notes;
}

/** The report, or a ReportFileError saying which argument is wrong (main() makes it exit 2, like any bad input). */
function reportOrUsageError(io: CliIo, file: string, what: string): ReadReport {
  try {
    return readReportFile(resolve(io.cwd, file), file);
  } catch (error) {
    if (error instanceof ReportFileError) throw new ReportFileError(`${what}: ${error.message}`);
    throw error;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
