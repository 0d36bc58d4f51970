import type { ApiRef, AwsConnection } from './connection.js';
import type { DeployedConfig } from './deployed.js';
import { readHttpApi } from './http.js';
import { readRestApi } from './rest.js';

export type { ApiRef, AwsConnection } from './connection.js';
export type { DeployedConfig } from './deployed.js';
export { AwsReadError } from './errors.js';

/**
 * The one entry point: what AWS is configured to enforce for a REST or HTTP API stage. Throws
 * AwsReadError when the API or stage cannot be read at all; every other setting that cannot be
 * read is listed in `unreadable`.
 */
export function readDeployedConfig(connection: AwsConnection, ref: ApiRef): Promise<DeployedConfig> {
  return ref.type === 'REST' ? readRestApi(connection, ref.id, ref.stage) : readHttpApi(connection, ref.id, ref.stage);
}
