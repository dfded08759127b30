import { afterEach, describe, expect, it } from 'vitest';
import { EXTRACTION_SYSTEM_PROMPT } from '../../src/context/model-extractor.ts';
import { SUMMARY_SYSTEM_PROMPT } from '../../src/context/model-summarizer.ts';
import { createModelProvider } from '../../src/models/create-model-provider.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { startAnthropicFake } from '../models/fakes/anthropic-fake.ts';
import type { FakeServer } from '../models/fakes/fake-server.ts';

// With a real model configured, the working context asks it to extract facts and to summarize;
// the `model-context` flag decides per tenant whether it does (off: the embedded extractor and summarizer).
describe('the model-context flag', () => {
  let fake: FakeServer | undefined;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });

  async function conversationOf(tenant: { tenantId: string; apiKey: string }, marker: string) {
    // Enough long turns that the oldest fold into the rolling summary (past the recent-token budget).
    const { token, id } = await t!.conversationWithTurns({
      tenant,
      turns: 4,
      content: (n) =>
        `${marker} ${n}: I take metformin 500 mg twice a day and my knee has ached for ${n + 2} weeks now.`,
    });
    const context = await t!.request({ method: 'GET', url: `/v1/conversations/${id}/context`, token });
    expect(context.statusCode, context.body).toBe(200);
    return context.json();
  }

  it('keeps the model out of the working context of tenants it is off for', async () => {
    fake = await startAnthropicFake();
    fake.setDefault({ kind: 'stream', chunks: ['{}'] });
    t = await buildTestApp({
      model: createModelProvider({
        kind: 'anthropic',
        anthropic: { apiKey: 'sk-ant-test', baseURL: fake.url, model: 'claude-test' },
      }),
    });
    const on = await t.createTenant();
    const off = await t.createTenant();
    const put = await t.request({
      method: 'PUT',
      url: '/v1/admin/flags/model-context',
      token: ADMIN_TOKEN,
      body: { enabled: true, tenants: [on.tenantId] },
    });
    expect(put.statusCode, put.body).toBe(200);

    const onContext = await conversationOf(on, 'Zephyrine');
    const offContext = await conversationOf(off, 'Quillon');
    const sent = fake.requests.map((r) => JSON.stringify(r.body));
    const about = (marker: string, prompt: string) =>
      sent.filter((body) => body.includes(marker) && body.includes(JSON.stringify(prompt.slice(0, 60)).slice(1, -1)));
    // The on tenant's turns went to the model, for facts (each user turn) and for the summary (the folded ones).
    expect(about('Zephyrine', EXTRACTION_SYSTEM_PROMPT)).toHaveLength(4);
    expect(about('Zephyrine', SUMMARY_SYSTEM_PROMPT).length).toBeGreaterThan(0);
    // The off tenant's never did.
    expect(sent.filter((body) => body.includes('Quillon'))).toEqual([]);
    // Both still get a working context: the off tenant's from the embedded extractor and summarizer.
    for (const context of [onContext, offContext]) {
      expect(context.profile.medications.map((m: { name: string }) => m.name)).toContain('metformin');
      expect(context.recent.length).toBeLessThan(4);
    }
  });
});
