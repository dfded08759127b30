import { afterEach, describe, expect, it } from 'vitest';
import { createIntentRouter } from '../../src/intents/index.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('/readyz tells the truth', () => {
  let t: TestApp;
  afterEach(async () => t?.close().catch(() => {}));

  it('is 200 with every component checked when all work', async () => {
    t = await buildTestApp();
    const res = await t.request({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      failing: [],
      checks: { store: { ok: true }, bus: { ok: true }, keys: { ok: true }, intentRouter: { ok: true } },
    });
    expect((await t.request({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('names the intent router, and only it, when the router misclassifies its probe set', async () => {
    const broken = createIntentRouter({
      includeBuiltins: false,
      rules: [{ id: 'everything-general', intent: 'general', patterns: ['.'], weight: 1 }],
    });
    t = await buildTestApp({ intentRouter: broken });
    const res = await t.request({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().failing).toEqual(['intentRouter']);
    expect(res.json().checks.intentRouter.detail).toBeTruthy();
  });

  it('names the store, and only it, when the store is gone', async () => {
    t = await buildTestApp();
    await t.services.store.close();
    const res = await t.request({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().failing).toEqual(['store']);
  });
});
