import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { type ContinuumLambdaHandler, createLambdaHandler, type HttpApiEvent } from '../../src/lambda.ts';
import { openKeyProvider, openStore } from '../../src/server/runtime.ts';
import { createDynamoTable } from '../../src/store/adapters/dynamodb/dynamo-store.ts';
import { type FakeKms, startFakeKms } from '../crypto/fake-kms.ts';
import { type LocalDynamo, startLocalDynamo } from '../store/dynamodb-local.ts';

const ADMIN_TOKEN = 'lambda-operator-token-0123456789abcdef';
const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/**
 * A recorded API Gateway HTTP API (payload 2.0) event from `fixtures/`; its
 * secrets were replaced by `{{NAME}}` placeholders, filled in from `values`.
 */
function recorded(name: string, values: Record<string, string> = {}): HttpApiEvent {
  const text = readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`fixture ${name} needs ${key}`);
    return value;
  });
  return JSON.parse(text) as HttpApiEvent;
}

/** Another request of the same client, shaped like the recorded conversation event. */
function request(
  method: string,
  rawPath: string,
  token: string,
  options: { query?: Record<string, string>; body?: unknown; base64?: boolean } = {},
): HttpApiEvent {
  const event = recorded('create-conversation', { ACCESS_TOKEN: token });
  const rawQueryString = new URLSearchParams(options.query ?? {}).toString();
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const { body: _recordedBody, ...rest } = event;
  return {
    ...rest,
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(options.query === undefined ? {} : { queryStringParameters: options.query }),
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path: rawPath } },
    ...(body === undefined ? {} : { body: options.base64 ? Buffer.from(body).toString('base64') : body }),
    isBase64Encoded: body !== undefined && options.base64 === true,
  };
}

const json = (result: { body: string }) => JSON.parse(result.body);

/** Tenant, token and conversation through the three recorded events; checks each answer. */
async function recordedFlow(handler: ContinuumLambdaHandler) {
  const tenant = await handler(recorded('admin-create-tenant', { ADMIN_TOKEN }));
  expect(tenant.statusCode, tenant.body).toBe(201);
  expect(tenant.headers['content-type']).toMatch(/^application\/json/);
  const { tenantId, apiKey } = json(tenant);
  expect(tenantId).toMatch(/^tnt_/);

  const token = await handler(recorded('auth-token', { API_KEY: apiKey }));
  expect(token.statusCode, token.body).toBe(200);
  const accessToken = json(token).access_token as string;

  const created = await handler(recorded('create-conversation', { ACCESS_TOKEN: accessToken }));
  expect(created.statusCode, created.body).toBe(201);
  expect(created.headers.etag).toBe('"0"');
  expect(created.headers['x-request-id']).toMatch(/^req_/);
  expect(created.isBase64Encoded).toBe(false);
  const conversation = json(created);
  expect(conversation).toMatchObject({
    id: expect.stringMatching(/^cnv_/),
    tenantId,
    subject: 'patient-42',
    title: 'intake',
    startedAt: '2026-11-25T09:00:00.000Z',
    turn: 0,
    status: 'open',
  });
  return { tenantId, accessToken, conversation };
}

describe('the Lambda handler on SQLite', () => {
  let dataDir: string;
  let handler: ContinuumLambdaHandler;
  let opened = 0;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-lambda-'));
    handler = createLambdaHandler({
      env: {
        CONTINUUM_DATA_DIR: dataDir,
        CONTINUUM_ADMIN_TOKEN: ADMIN_TOKEN,
        CONTINUUM_MASTER_KEY: randomBytes(32).toString('base64'),
        CONTINUUM_LOG_LEVEL: 'silent',
      },
      async open(config) {
        opened += 1;
        return { store: await openStore(config), keyProvider: await openKeyProvider(config) };
      },
    });
  });

  afterAll(async () => {
    await handler.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the recorded POST /v1/conversations event (after the recorded tenant and token events), once per container', async () => {
    const { accessToken, conversation } = await recordedFlow(handler);
    // The same event again (a client retry): the same conversation, 200 (ADR-002).
    const again = await handler(recorded('create-conversation', { ACCESS_TOKEN: accessToken }));
    expect(again.statusCode, again.body).toBe(200);
    expect(json(again).id).toBe(conversation.id);
    // One app per container: built at the first invocation, kept for the next.
    expect(opened).toBe(1);
  });

  it('takes base64-encoded bodies and query strings, and serves what it stored', async () => {
    const tenant = await handler({
      ...recorded('admin-create-tenant', { ADMIN_TOKEN }),
      body: Buffer.from(JSON.stringify({ name: 'harbor-clinic' })).toString('base64'),
      isBase64Encoded: true,
    });
    expect(tenant.statusCode, tenant.body).toBe(201);
    const token = json(await handler(recorded('auth-token', { API_KEY: json(tenant).apiKey }))).access_token;
    const { id } = json(await handler(recorded('create-conversation', { ACCESS_TOKEN: token })));
    const appended = await handler(
      request('POST', `/v1/conversations/${id}/turns`, token, {
        body: { role: 'user', content: 'I take metformin 500 mg twice a day — ¿y tú?', expectedTurn: 0 },
        base64: true,
      }),
    );
    expect(appended.statusCode, appended.body).toBe(201);
    const turns = await handler(request('GET', `/v1/conversations/${id}/turns`, token, { query: { after: '0' } }));
    expect(turns.statusCode, turns.body).toBe(200);
    expect(json(turns).items.map((t: { content: string }) => t.content)).toEqual([
      'I take metformin 500 mg twice a day — ¿y tú?',
    ]);
    const problem = await handler(request('GET', '/v1/conversations/cnv_nope', token));
    expect(problem.statusCode).toBe(404);
    expect(problem.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(problem).code).toBe('not_found');
  });

  it('answers 501 for following a conversation (SSE) or WebSocket sync: they need a long-lived server', async () => {
    for (const route of ['events', 'sync']) {
      const result = await handler(request('GET', `/v1/conversations/cnv_any/${route}`, 'any-token'));
      expect(result.statusCode).toBe(501);
      expect(result.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(json(result)).toMatchObject({ code: 'not_implemented', status: 501 });
      expect(json(result).detail).toContain('long-lived server');
    }
  });
});

describe('the Lambda handler without CONTINUUM_ADMIN_TOKEN', () => {
  it('fails every invocation with a message naming the setting (a later one tries the start again)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-lambda-'));
    const handler = createLambdaHandler({ env: { CONTINUUM_DATA_DIR: dataDir, CONTINUUM_LOG_LEVEL: 'silent' } });
    try {
      for (let n = 0; n < 2; n++) {
        await expect(handler(recorded('admin-create-tenant', { ADMIN_TOKEN }))).rejects.toThrow(ConfigError);
        await expect(handler(recorded('admin-create-tenant', { ADMIN_TOKEN }))).rejects.toThrow(
          /CONTINUUM_ADMIN_TOKEN: required on AWS Lambda/,
        );
      }
    } finally {
      await handler.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// The recommended deployment: DynamoDB store and KMS master key, configured only by settings.
describe('the Lambda handler on DynamoDB (dynalite) with KMS keys', () => {
  let local: LocalDynamo;
  let kms: FakeKms;
  let handler: ContinuumLambdaHandler;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    [local, kms] = await Promise.all([startLocalDynamo(), startFakeKms('eu-west-1')]);
    // The AWS SDK reads credentials and region from the function's environment, as it does on Lambda.
    const aws = {
      AWS_ACCESS_KEY_ID: local.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: local.credentials.secretAccessKey,
      AWS_REGION: 'eu-west-1',
    };
    for (const [name, value] of Object.entries(aws)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    const table = `continuum-lambda-${randomBytes(4).toString('hex')}`;
    await createDynamoTable({ table, endpoint: local.endpoint, credentials: local.credentials });
    handler = createLambdaHandler({
      env: {
        CONTINUUM_STORE: 'dynamodb',
        CONTINUUM_DYNAMODB_TABLE: table,
        CONTINUUM_DYNAMODB_ENDPOINT: local.endpoint,
        CONTINUUM_DYNAMODB_REGION: 'eu-west-1',
        CONTINUUM_KEY_PROVIDER: 'kms',
        CONTINUUM_KMS_KEY_ID: kms.createKey('continuum'),
        CONTINUUM_KMS_ENDPOINT: kms.endpoint,
        CONTINUUM_ADMIN_TOKEN: ADMIN_TOKEN,
        CONTINUUM_LOG_LEVEL: 'silent',
      },
    });
  });

  afterAll(async () => {
    await handler?.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all([local?.close(), kms?.close()]);
  });

  it('answers the recorded events and keeps the conversation encrypted under a KMS-wrapped key', async () => {
    const { accessToken, conversation } = await recordedFlow(handler);
    const appended = await handler(
      request('POST', `/v1/conversations/${conversation.id}/turns`, accessToken, {
        body: { role: 'user', content: 'Penicillin gives me a rash.', expectedTurn: 0 },
      }),
    );
    expect(appended.statusCode, appended.body).toBe(201);
    const read = await handler(request('GET', `/v1/conversations/${conversation.id}/turns`, accessToken));
    expect(json(read).items.map((t: { content: string }) => t.content)).toEqual(['Penicillin gives me a rash.']);
    // The tenant's data key was wrapped by KMS (GenerateDataKey or Encrypt), and KMS is what unwraps it.
    expect(kms.calls.map((c) => c.target).some((t) => /GenerateDataKey|Encrypt/.test(t))).toBe(true);
  });
});
