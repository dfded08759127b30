import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { configWith } from '../../src/config/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createKmsKeyProvider } from '../../src/crypto/kms-key-provider.ts';
import { createIntentRouter } from '../../src/intents/index.ts';
import { buildApp } from '../../src/server/app.ts';
import { SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import { type FakeKms, startFakeKms } from '../crypto/fake-kms.ts';
import { type PrivateService, privateRedisUnavailable, startPrivateRedis } from '../helpers/private-services.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';

interface Readiness {
  status: string;
  failing: string[];
  checks: Record<string, { ok: boolean; detail?: string; ms: number; age: number }>;
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function readyz(t: Pick<TestApp, 'app'>) {
  const res = await t.app.inject({ method: 'GET', url: '/readyz' });
  return { status: res.statusCode, body: res.json() as Readiness, cache: res.headers['cache-control'] };
}

describe('/readyz tells the truth: each broken component is named, and only it', () => {
  let t: TestApp | undefined;
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.close().catch(() => {});
    t = undefined;
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup = [];
  });

  it('is 200 with every component checked when all work; /healthz only says the process lives', async () => {
    t = await buildTestApp();
    const { status, body, cache } = await readyz(t);
    expect(status).toBe(200);
    expect(cache).toBe('no-store');
    expect(body).toMatchObject({
      status: 'ok',
      failing: [],
      checks: {
        store: { ok: true },
        bus: { ok: true },
        keys: { ok: true },
        model: { ok: true },
        intentRouter: { ok: true },
      },
    });
    expect((await t.request({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('store: a closed store is named', async () => {
    t = await buildTestApp();
    await t.services.store.close();
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.failing).toEqual(['store']);
    expect(body.checks.store!.detail).toBeTruthy();
  });

  it('intent router: a router that misclassifies its probe set is named', async () => {
    const broken = createIntentRouter({
      includeBuiltins: false,
      rules: [{ id: 'everything-general', intent: 'general', patterns: ['.'], weight: 1 }],
    });
    t = await buildTestApp({ intentRouter: broken });
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(body.failing).toEqual(['intentRouter']);
    expect(body.checks.intentRouter!.detail).toBeTruthy();
  });

  it('model: a provider pointed at a dead port is named', async () => {
    const port = await deadPort();
    t = await buildTestApp({
      config: { model: 'openai', openaiBaseUrl: `http://127.0.0.1:${port}/v1`, openaiModel: 'none' },
    });
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(body.failing).toEqual(['model']);
  });

  it('keys: a key provider whose master key can no longer unwrap (KMS key disabled) is named', async () => {
    const kms: FakeKms = await startFakeKms();
    cleanup.push(() => kms.close());
    const arn = kms.createKey();
    const client = new KMSClient({
      region: kms.region,
      endpoint: kms.endpoint,
      credentials: { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
    });
    cleanup.push(async () => client.destroy());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-readyz-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const store = createSqliteStore({ filename: path.join(dataDir, SQLITE_FILE) });
    await store.migrate();
    cleanup.push(() => store.close());
    const built = await buildApp(configWith({ dataDir, logLevel: 'silent' }), {
      store,
      keyProvider: createKmsKeyProvider({ keyId: arn, client }),
      adminToken: ADMIN_TOKEN,
      clock: new FakeClock(Date.UTC(2026, 10, 25, 8)),
      logger: false,
    });
    cleanup.push(() => built.app.close());
    expect((await readyz(built)).body.failing).toEqual([]);

    kms.disableKey(arn);
    // The passing result may be reused for up to a second; then the key provider is probed again.
    await expect
      .poll(async () => (await readyz(built)).body.failing, { timeout: 5_000, interval: 200 })
      .toEqual(['keys']);
    const { status, body } = await readyz(built);
    expect(status).toBe(503);
    expect(body.checks.keys!.detail).toMatch(/KMS/);
  });

  it.skipIf(privateRedisUnavailable() !== undefined)(
    'bus: a Redis bus whose Redis stopped is named, as degraded (200): the node keeps serving',
    async () => {
      const redis: PrivateService = await startPrivateRedis();
      cleanup.push(() => redis.destroy());
      t = await buildTestApp({ config: { redisUrl: redis.url, redisPrefix: `readyz-${process.pid}:` } });
      expect((await readyz(t)).body.status).toBe('ok');

      await redis.stop();
      await expect
        .poll(async () => (await readyz(t!)).body.failing, { timeout: 10_000, interval: 200 })
        .toEqual(['bus']);
      const { status, body } = await readyz(t);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      expect((await t.request({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      await redis.start();
      await expect.poll(async () => (await readyz(t!)).body.status, { timeout: 10_000, interval: 200 }).toBe('ok');
    },
  );

  it('reuses a result for up to a second: a second probe right after costs no round trip', async () => {
    t = await buildTestApp();
    const first = await readyz(t);
    const second = await readyz(t);
    for (const name of Object.keys(first.body.checks)) {
      // The same probe result, only older.
      expect(second.body.checks[name]!.ms).toBe(first.body.checks[name]!.ms);
      expect(second.body.checks[name]!.age).toBeGreaterThanOrEqual(first.body.checks[name]!.age);
    }
  });
});
