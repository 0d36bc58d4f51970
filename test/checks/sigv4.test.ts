/**
 * SigV4: the client signs with the SDK's signer on the wire, the reference gateway recomputes
 * the signature with the same signer, and every case of the matrix is refused with AWS's words.
 * Real parts: the reference gateway on loopback, gatecheck's HttpClient.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sigv4Check } from '../../src/checks/sigv4/check.js';
import { buildSigV4Matrix, SIGNED_MARKER_HEADER, variantRequest } from '../../src/checks/sigv4/matrix.js';
import { credentialSigner, signWire } from '../../src/checks/sigv4/sign.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import { SIGV4_SKEW_MS, verifySigV4 } from '../../src/gateway/sigv4-verify.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy, SigV4Settings } from '../../src/policy/types.js';
import { Redactor } from '../../src/util/redact.js';

const env = { KEY_ID: 'AKIDEXAMPLE0123456789', SECRET: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', TOKEN: 'FQoGZXIvYXdzEXAMPLETOKEN0123' };
const policyText = (token: boolean) => `
version: 1
credentials:
  iam:
    kind: sigv4
    region: us-east-1
    accessKeyId: "\${KEY_ID}"
    secretAccessKey: "\${SECRET}"
${token ? '    sessionToken: "${TOKEN}"\n' : ''}routes:
  - { method: POST, path: /api/orders, auth: { required: true, credential: iam } }
  - { method: GET, path: "/api/orders/{id}/x", auth: { required: true, credential: iam } }
`;

describe.each([false, true])('SigV4 against the reference gateway (session token: %s)', (token) => {
  let policy: Policy;
  let settings: SigV4Settings;
  let gateway: GatewayHandle;
  let client: HttpClient;
  beforeAll(async () => {
    policy = parsePolicy(policyText(token), 'p.yaml', { env });
    settings = policy.credentials.iam!.sigv4!;
    gateway = await startGateway({ policy });
    client = new HttpClient({ baseUrl: gateway.url, requestTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
  });

  const send = (route: { method: 'POST' | 'GET'; path: string }, probe: string): Promise<Observation> => {
    const matrix = buildSigV4Matrix(route, settings, 'not-the-secret-key-0123456789');
    const variant = [matrix.control, ...matrix.variants].find((v) => v.probe === `sigv4.${probe}`)!;
    return client.send(variantRequest(settings, variant));
  };
  const message = (o: Observation) => (JSON.parse(o.bodySnippet ?? '{}') as { message?: string }).message;

  it('accepts the valid signature (POST with a body, and a GET with a query and braces in the path)', async () => {
    const control = await send({ method: 'POST', path: '/api/orders' }, 'control');
    expect(control.status).toBe(200);
    expect(control.requestHeaders!['authorization']).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${env.KEY_ID}/\\d{8}/us-east-1/execute-api/aws4_request, SignedHeaders=.*${SIGNED_MARKER_HEADER}`,
      ),
    );
    if (token) expect(control.requestHeaders!['x-amz-security-token']).toBe(env.TOKEN);
    const get = await client.send({
      probe: 'g',
      method: 'GET',
      path: '/api/orders/{id}/x?b=2&a=1&a=0',
      sign: credentialSigner(policy.credentials.iam),
    });
    // The route is `/api/orders/{id}/x` literally: the signature over the encoded path must match.
    expect(get.status).toBe(200);
  });

  it.each([
    ['unsigned', 'Missing Authentication Token', 'MissingAuthenticationTokenException'],
    ['wrong-secret', 'The request signature we calculated does not match', 'InvalidSignatureException'],
    ['wrong-region', 'Credential should be scoped to a valid region', 'InvalidSignatureException'],
    ['wrong-service', "Credential should be scoped to correct service: 'execute-api'", 'InvalidSignatureException'],
    ['expired', 'Signature expired: ', 'InvalidSignatureException'],
    ['header-changed', 'The request signature we calculated does not match', 'InvalidSignatureException'],
    ['header-dropped', 'The request signature we calculated does not match', 'InvalidSignatureException'],
    ['body-changed', 'The request signature we calculated does not match', 'InvalidSignatureException'],
  ])('refuses %s with 403 "%s"', async (probe, text, errorType) => {
    const answer = await send({ method: 'POST', path: '/api/orders' }, probe);
    expect(answer.status).toBe(403);
    expect(message(answer)).toContain(text);
    expect(answer.headers['x-amzn-errortype']).toBe(errorType);
  });

  it('runs the check end to end: pass on the gateway, a critical bypass per case under iam-off', async () => {
    const [instance] = sigv4Check.select(policy);
    const run = async (target: GatewayHandle) => {
      const c = new HttpClient({ baseUrl: target.url, requestTimeoutMs: 2_000 });
      const observations: Observation[] = [];
      const { RunBudget } = await import('../../src/engine/budget.js');
      const ctx = {
        policy,
        client: {
          send: (r: Parameters<HttpClient['send']>[0]) => c.send(r).then((o) => (observations.push(o), o)),
        } as unknown as HttpClient,
        budget: new RunBudget(100, Number.MAX_SAFE_INTEGER, () => 0),
        redactor: new Redactor(Object.values(policy.credentials)),
        progress: () => {},
      };
      const notes = await sigv4Check.collect(ctx, instance!.spec);
      await c.close();
      return sigv4Check.evaluate(instance!.spec, { observations, notes }, policy);
    };
    const good = await run(gateway);
    expect(good.status).toBe('pass');
    expect(good.findings).toEqual([]);
    const off = await startGateway({ policy, faults: ['iam-off'] });
    try {
      const bad = await run(off);
      expect(bad.status).toBe('fail');
      expect(bad.findings.map((f) => `${f.severity} ${f.id}`).sort()).toEqual(
        ['body-changed', 'expired', 'header-changed', 'header-dropped', 'unsigned', 'wrong-region', 'wrong-secret', 'wrong-service'].map(
          (c) => `critical bypass:${c}`,
        ),
      );
    } finally {
      await off.close();
    }
  });
});

describe('verifySigV4 clock', () => {
  const settings: SigV4Settings = { region: 'eu-west-1', service: 'execute-api', accessKeyId: 'AKID1', secretAccessKey: 'secret-1' };
  const wire = { method: 'GET', url: new URL('http://127.0.0.1:9/a'), headers: {} };
  const at = Date.UTC(2026, 10, 30, 12, 0, 0);
  const verifyAt = async (signedAtMs: number, nowMs: number) => {
    const headers = await signWire(settings, wire, {}, () => signedAtMs);
    return verifySigV4(settings, { method: 'GET', target: '/a', headers: { ...headers, host: '127.0.0.1:9' }, body: undefined }, nowMs);
  };

  it('accepts within 5 minutes either way, refuses beyond, with the AWS wording', async () => {
    expect(await verifyAt(at, at + SIGV4_SKEW_MS - 1000)).toBeUndefined();
    expect(await verifyAt(at, at - SIGV4_SKEW_MS + 1000)).toBeUndefined();
    const expired = await verifyAt(at, at + SIGV4_SKEW_MS + 1000);
    expect(expired?.body.toString()).toBe(
      '{"message":"Signature expired: 20261130T120000Z is now earlier than 20261130T120001Z (20261130T120501Z - 5 min.)"}',
    );
    expect((await verifyAt(at, at - SIGV4_SKEW_MS - 1000))?.body.toString()).toContain('Signature not yet current');
  });

  it('refuses an unknown key id as AWS does', async () => {
    const headers = await signWire({ ...settings, accessKeyId: 'AKID2' }, wire, {}, () => at);
    const refusal = await verifySigV4(settings, { method: 'GET', target: '/a', headers, body: undefined }, at);
    expect(refusal?.errorType).toBe('UnrecognizedClientException');
  });
});

describe('redaction', () => {
  it('redacts the key id, the secret and the session token', () => {
    const policy = parsePolicy(policyText(true), 'p.yaml', { env });
    const redactor = new Redactor(Object.values(policy.credentials));
    const text = `Credential=${env.KEY_ID}/x ${env.SECRET} ${env.TOKEN}`;
    expect(redactor.redact(text)).toBe('Credential=<credential iam, access key id>/x <credential iam> <credential iam, session token>');
  });
});
