import type { GetMetricDataCommandInput, GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { toCloudWatchError } from './errors.js';

/**
 * The one place gatecheck builds an AWS SDK client. Credentials and Region come from the SDK's
 * default chain (environment, shared config and credentials files, SSO, web identity, container
 * and instance roles), with `profile` standing for --profile, exactly as the AWS CLI resolves
 * them. Only the emulator paths pass static credentials.
 *
 * The SDK is imported on first use, so commands that never talk to CloudWatch do not load it.
 */

export interface CloudWatchConnection {
  /** --region, else the policy's, else the SDK's default (AWS_REGION, the profile's region). */
  region?: string;
  /** --profile (the SDK's `profile` client option: same as AWS_PROFILE). */
  profile?: string;
  /** --endpoint-url or the policy's endpoint (an emulator). */
  endpoint?: string;
  /** Static credentials, for emulators only. Default: the SDK's credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per call, retries included (standard mode: throttling and 5xx are retried with jittered backoff). Default 5. */
  maxAttempts?: number;
  /** Socket-level timeout per attempt, ms. Default 10,000. */
  requestTimeoutMs?: number;
}

/** What the rest of gatecheck needs from CloudWatch: one call. */
export interface CloudWatchReader {
  /** Resolved Region (the WAFV2 `Region` dimension needs it). */
  readonly region: string;
  /** Where the calls go: the endpoint URL, or `CloudWatch in <region>`. */
  readonly where: string;
  getMetricData(input: GetMetricDataCommandInput): Promise<GetMetricDataCommandOutput>;
  close(): void;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

/** Builds the SDK client and resolves the Region; a missing Region is a CloudWatchError (NoRegion). */
export async function openCloudWatch(connection: CloudWatchConnection): Promise<CloudWatchReader> {
  const { CloudWatchClient, GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const client = new CloudWatchClient({
    ...(connection.region !== undefined ? { region: connection.region } : {}),
    ...(connection.profile !== undefined ? { profile: connection.profile } : {}),
    ...(connection.endpoint !== undefined ? { endpoint: connection.endpoint } : {}),
    ...(connection.credentials !== undefined ? { credentials: connection.credentials } : {}),
    maxAttempts: connection.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: {
      requestTimeout: connection.requestTimeoutMs ?? 10_000,
      connectionTimeout: Math.min(connection.requestTimeoutMs ?? 10_000, 5_000),
    },
  });
  let region: string;
  try {
    region = await client.config.region();
  } catch (error) {
    client.destroy();
    throw toCloudWatchError(error, connection.endpoint ?? 'CloudWatch');
  }
  const where = connection.endpoint ?? `CloudWatch in ${region}`;
  return {
    region,
    where,
    getMetricData: async (input) => {
      try {
        return await client.send(new GetMetricDataCommand(input));
      } catch (error) {
        throw toCloudWatchError(error, where);
      }
    },
    close: () => client.destroy(),
  };
}
