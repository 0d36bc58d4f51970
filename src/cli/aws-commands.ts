import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { AwsReadError, readDeployedConfig, type ApiRef, type AwsConnection, type DeployedConfig } from '../aws/read.js';
import { writePolicy } from '../drift/policy-writer.js';
import { schemaIssues } from '../policy/schema.js';
import { EXIT_CODES } from '../report/model.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * The CLI side of reading AWS configuration: `init --from-aws` and `run --drift`. Flags follow the
 * AWS CLI (--region, --profile, --endpoint-url; the SDK's default credential chain).
 */

export interface AwsApiFlags {
  'rest-api-id'?: string | undefined;
  'api-id'?: string | undefined;
  stage?: string | undefined;
}

/** --rest-api-id or --api-id, and --stage: which API stage to read. `what` names the command for messages. */
export function apiRefFromFlags(flags: AwsApiFlags, what: string): ApiRef {
  const rest = flags['rest-api-id'];
  const http = flags['api-id'];
  if (rest !== undefined && http !== undefined)
    throw new UsageError(`${what}: give --rest-api-id (a REST API) or --api-id (an HTTP API), not both`);
  if (rest === undefined && http === undefined)
    throw new UsageError(`${what}: name the API: --rest-api-id ID (REST) or --api-id ID (HTTP API)`);
  const id = (rest ?? http)!;
  const flag = rest !== undefined ? '--rest-api-id' : '--api-id';
  if (!/^[a-z0-9]{1,32}$/i.test(id))
    throw new UsageError(`${flag}: "${id}" is not an API Gateway id (letters and digits, e.g. a1b2c3d4e5)`);
  if (flags.stage === undefined || flags.stage.trim() === '')
    throw new UsageError(`${what}: --stage is required (the stage name, e.g. prod or $default)`);
  return { type: rest !== undefined ? 'REST' : 'HTTP', id, stage: flags.stage };
}

/**
 * Reads the configuration before any traffic. The API or stage not existing (or no Region) is
 * bad input (exit 2); no credentials, access denied on the API itself or no network are thrown
 * as AwsReadError for the caller to exit 3 with the message.
 */
export async function readDeployedOrUsageError(connection: AwsConnection, ref: ApiRef): Promise<DeployedConfig> {
  try {
    return await readDeployedConfig(connection, ref);
  } catch (error) {
    if (error instanceof AwsReadError && (error.code === 'NotFound' || error.code === 'NoRegion'))
      throw new UsageError(`${ref.type === 'REST' ? '--rest-api-id' : '--api-id'} ${ref.id} --stage ${ref.stage}: ${error.message}`);
    throw error;
  }
}

/** Settings that could not be read, one warning line each: named, never guessed. */
export function unreadableLines(config: DeployedConfig): string {
  return config.unreadable.map((u) => `gatecheck: warning: not read from AWS: ${u.setting} (${u.call}: ${u.code}, ${u.reason})\n`).join('');
}

export interface InitArgs {
  ref: ApiRef;
  connection: AwsConnection;
  /** --out FILE; default stdout. */
  out?: string;
  target?: string;
}

/** `gatecheck init --from-aws`: writes a starting policy from a deployed API stage. */
export async function initCommand(io: CliIo, args: InitArgs): Promise<number> {
  let config: DeployedConfig;
  try {
    config = await readDeployedOrUsageError(args.connection, args.ref);
  } catch (error) {
    if (!(error instanceof AwsReadError)) throw error;
    io.stderr.write(`gatecheck: cannot read the API's configuration: ${error.message}\n`);
    return EXIT_CODES.error;
  }
  if (config.routes.length === 0)
    throw new UsageError(
      `${args.ref.type} API ${args.ref.id} stage ${args.ref.stage} has no method with a path to check (only OPTIONS, ANY or $default)`,
    );
  const text = writePolicy(config, args.target !== undefined ? { target: args.target } : {});
  // The writer's output must be a valid policy: a problem here is gatecheck's bug, said as such.
  const issues = schemaIssues(parse(text));
  if (issues.length) throw new Error(`the generated policy does not validate: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  io.stderr.write(unreadableLines(config));
  if (args.out === undefined) {
    io.stdout.write(text);
    return EXIT_CODES.pass;
  }
  const file = resolve(io.cwd, args.out);
  try {
    await writeFile(file, text, 'utf8');
  } catch (error) {
    throw new UsageError(`--out: cannot write ${args.out} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const routes = config.routes.length;
  io.stderr.write(
    `gatecheck: wrote ${args.out}: ${routes} route${routes === 1 ? '' : 's'}` +
      ` from ${config.api.type} API ${config.api.id} stage ${config.api.stage}` +
      `; set the \${…} credentials, then: gatecheck validate --policy ${args.out}\n`,
  );
  return EXIT_CODES.pass;
}
