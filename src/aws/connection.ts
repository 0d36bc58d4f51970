/**
 * How gatecheck reaches AWS to read a gateway's configuration: as the AWS CLI does. Region and
 * credentials come from the SDK's default chain (environment, shared config and credentials
 * files, SSO, web identity, container and instance roles); `profile` is --profile,
 * `endpoint` is --endpoint-url (an emulator such as moto). Only emulator tests pass static
 * credentials.
 */
export interface AwsConnection {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Options every SDK client of the configuration read gets. Attempts are few: a read is a handful of calls. */
export function clientOptions(connection: AwsConnection): Record<string, unknown> {
  return {
    ...(connection.region !== undefined ? { region: connection.region } : {}),
    ...(connection.profile !== undefined ? { profile: connection.profile } : {}),
    ...(connection.endpoint !== undefined ? { endpoint: connection.endpoint } : {}),
    ...(connection.credentials !== undefined ? { credentials: connection.credentials } : {}),
    maxAttempts: 3,
    requestHandler: { requestTimeout: 10_000, connectionTimeout: 5_000 },
  };
}

/** Which API to read: a REST API (`--rest-api-id`) or an HTTP API (`--api-id`), and its stage. */
export interface ApiRef {
  type: 'REST' | 'HTTP';
  id: string;
  stage: string;
}
