import type { DeployedConfig, Unreadable } from './deployed.js';
import { classifyAwsError, optionalRead } from './errors.js';
import { clientOptions, type AwsConnection } from './connection.js';

/**
 * The regional web ACL associated with a REST stage (wafv2 GetWebACLForResource). When that call
 * is refused, GetStage's own `webAclArn` still says which ACL API Gateway has (it is AWS's
 * statement, not a guess); with neither, the association is named unreadable.
 */
export async function readWebAcl(
  connection: AwsConnection,
  region: string,
  resourceArn: string,
  stageWebAclArn: string | undefined,
  unreadable: Unreadable[],
): Promise<DeployedConfig['waf']> {
  const sdk = await import('@aws-sdk/client-wafv2');
  const client = new sdk.WAFV2Client({ ...clientOptions(connection), region });
  const failures: Unreadable[] = [];
  try {
    const out = await optionalRead(failures, 'WAF association', 'wafv2 GetWebACLForResource', () =>
      client.send(new sdk.GetWebACLForResourceCommand({ ResourceArn: resourceArn })),
    );
    if (out !== undefined) {
      const acl = out.WebACL;
      return { value: acl ? { arn: acl.ARN ?? '', name: acl.Name ?? acl.ARN ?? '' } : null, source: 'wafv2 GetWebACLForResource' };
    }
    if (stageWebAclArn)
      return { value: { arn: stageWebAclArn, name: stageWebAclArn.split('/').at(-2) ?? stageWebAclArn }, source: 'GetStage webAclArn' };
    unreadable.push(...failures);
    return undefined;
  } catch (error) {
    unreadable.push({ setting: 'WAF association', call: 'wafv2 GetWebACLForResource', ...classifyAwsError(error) } as Unreadable);
    return undefined;
  } finally {
    client.destroy();
  }
}
