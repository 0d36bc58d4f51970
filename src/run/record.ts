import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Observation } from '../engine/observation.js';
import type { Redactor } from '../util/redact.js';
import type { RunRecorder } from './run-policy.js';

/**
 * `run --record FILE`: the run as NDJSON (Vegeta's `attack -output`), one record a line: the run
 * first, then every observation of the stream as it completes, and each check's notes when it
 * finishes. `gatecheck judge` reads it back and evaluates the checks again, offline. Every line
 * passes the run's Redactor before it is written: a recording never holds a credential value,
 * only its placeholder (`<credential main>`).
 */

export interface RunRecord {
  type: 'run';
  /** The gatecheck version that recorded it. */
  version: string;
  policyFile: string;
  target: string;
  startedAt: string;
  /** Epoch ms of the run clock's zero: an observation's `sentAtMs` is `epochAtOriginMs + sentAtMs` on the wall clock. */
  epochAtOriginMs: number;
}

export type ObservationRecord = { type: 'observation' } & Observation;

export interface CheckRecord {
  type: 'check';
  id: string;
  kind: string;
  route: string;
  idSuffix: string;
  /** What the check's collect returned besides its observations (JSON). */
  notes: unknown;
}

export type RecordLine = RunRecord | ObservationRecord | CheckRecord;

/** A check's record and the observations it was judged on: those tagged with its id that came before its record. */
export interface RecordedCheck {
  record: CheckRecord;
  observations: Observation[];
}

/** A recording read back: the run, its observations in arrival order, and the checks by id. */
export interface Recording {
  run: RunRecord;
  observations: Observation[];
  checks: Map<string, RecordedCheck>;
}

/** What the CLI knows of the run before it starts. */
type RunIdentity = Pick<RunRecord, 'version' | 'policyFile' | 'target'>;

/** Writes a run's records to a file, through the redactor. Create it before any traffic (a bad path is bad input). */
export class FileRunRecorder implements RunRecorder {
  private failure: Error | undefined;

  private constructor(
    private readonly stream: WriteStream,
    private readonly redactor: Redactor,
    private readonly run: RunIdentity,
  ) {
    stream.on('error', (error) => (this.failure ??= error));
  }

  /** Creates (or empties) the file now; throws the file system's error (ENOENT, EACCES, EISDIR). */
  static async create(file: string, redactor: Redactor, run: RunIdentity): Promise<FileRunRecorder> {
    const handle = await open(file, 'w');
    return new FileRunRecorder(handle.createWriteStream(), redactor, run);
  }

  start(run: { startedAt: string; epochAtOriginMs: number }): void {
    this.write({ type: 'run', ...this.run, ...run });
  }

  observation(observation: Observation): void {
    this.write({ type: 'observation', ...observation });
  }

  check(record: Omit<CheckRecord, 'type'>): void {
    this.write({ type: 'check', ...record });
  }

  /** Flushes and closes the file; throws when a write failed (disk full), so the caller can say the recording is incomplete. */
  async close(): Promise<void> {
    if (!this.stream.closed) {
      this.stream.end();
      await Promise.race([once(this.stream, 'close'), once(this.stream, 'error')]).catch(() => {});
    }
    if (this.failure) throw this.failure;
  }

  /**
   * Serialized at once: a probe's headers object may change after it is sent, and the line must
   * say what was sent. The stream buffers; a loaded run does not wait for the disk.
   */
  private write(record: RecordLine): void {
    if (this.failure || this.stream.writableEnded) return;
    this.stream.write(`${this.redactor.redact(JSON.stringify(record))}\n`);
  }
}

/** A recording that cannot be read: names the line. */
export class RecordingError extends Error {}

/** Parses a recording (NDJSON). The run record must come first; blank lines are ignored. */
export function parseRecording(text: string): Recording {
  let run: RunRecord | undefined;
  const observations: Observation[] = [];
  const checks = new Map<string, RecordedCheck>();
  // The run judged a check on what arrived while it ran; an answer tagged with it that came later is not its data.
  const tagged = new Map<string, Observation[]>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const at = `line ${index + 1}`;
    let record: RecordLine;
    try {
      record = JSON.parse(line) as RecordLine;
    } catch {
      throw new RecordingError(`${at} is not JSON${index === lines.length - 1 ? ' (the recording was cut short?)' : ''}`);
    }
    if (!run) {
      if (record?.type !== 'run') {
        throw new RecordingError(`${at}: a recording starts with the run record ({"type":"run",...}); is this a \`run --record\` file?`);
      }
      run = record;
      return;
    }
    if (record?.type === 'observation') {
      const { type: _type, ...observation } = record;
      observations.push(observation);
      if (observation.check !== undefined) {
        const list = tagged.get(observation.check);
        if (list) list.push(observation);
        else tagged.set(observation.check, [observation]);
      }
    } else if (record?.type === 'check') {
      if (typeof record.id !== 'string') throw new RecordingError(`${at}: a check record without an id`);
      checks.set(record.id, { record, observations: [...(tagged.get(record.id) ?? [])] });
    } else {
      throw new RecordingError(`${at}: unknown record type ${JSON.stringify((record as { type?: unknown })?.type)}`);
    }
  });
  if (!run) throw new RecordingError('the file is empty: no run record');
  return { run, observations, checks };
}

/** Reads and parses a recording file; the file system's errors are thrown as they are. */
export async function readRecordingFile(file: string): Promise<Recording> {
  return parseRecording(await readFile(file, 'utf8'));
}
