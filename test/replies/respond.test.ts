import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/models/local-provider.ts';
import type { GenerateRequest, ModelProvider } from '../../src/models/port.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

interface Ctx {
  t: TestApp;
  tenantId: string;
  token: string;
  id: string;
  turn: number;
}

async function start(options: Parameters<typeof buildTestApp>[0] = {}): Promise<Ctx> {
  const t = await buildTestApp({ ...options, config: { localWordDelayMs: 0, ...options.config } });
  const { apiKey, tenantId } = await t.createTenant();
  const token = (await t.token(apiKey, 'patient-1')).access_token;
  const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
  return { t, tenantId, token, id, turn: 0 };
}

async function say(c: Ctx, content: string, extra: Record<string, unknown> = {}) {
  const res = await c.t.request({
    method: 'POST',
    url: `/v1/conversations/${c.id}/turns`,
    token: c.token,
    body: { role: 'user', content, expectedTurn: c.turn, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json();
  c.turn = body.reply?.number ?? body.turn.number;
  return body;
}

/** The local provider, with a record of every prompt it was given and of how many generate at once. */
function observedLocal(wordDelayMs = 0) {
  const inner = createLocalProvider({ wordDelayMs });
  const prompts: GenerateRequest['messages'][] = [];
  let active = 0;
  let maxActive = 0;
  const provider: ModelProvider = {
    kind: 'local',
    probe: (signal) => inner.probe(signal),
    generate(request) {
      prompts.push(request.messages);
      active++;
      maxActive = Math.max(maxActive, active);
      const generation = inner.generate(request);
      generation.result.finally(() => active--).catch(() => {});
      return generation;
    },
  };
  return { provider, prompts, stats: () => ({ active, maxActive }) };
}

describe('respond: true', () => {
  let c: Ctx;
  afterEach(async () => c?.t.close());

  it('stores the reply as the next turn and answers with both', async () => {
    c = await start();
    const body = await say(c, 'Hello, can you help me with my medications?', { respond: true });
    expect(body.turn).toMatchObject({ number: 1, role: 'user' });
    expect(body.reply).toMatchObject({ number: 2, role: 'assistant' });
    expect(body.reply.content.length).toBeGreaterThan(10);
    const turns = await c.t.request({ method: 'GET', url: `/v1/conversations/${c.id}/turns`, token: c.token });
    expect(turns.json().items.map((t: { role: string }) => t.role)).toEqual(['user', 'assistant']);
    expect(turns.json().items[1].content).toBe(body.reply.content);
  });

  it('a reply on turn 30 can state a medication mentioned on turn 2, from the prompt it was given', async () => {
    const local = observedLocal();
    c = await start({ model: local.provider });
    await say(c, 'Hi, I have type 2 diabetes.');
    await say(c, 'I take metformin 500 mg twice a day.');
    for (let n = 3; n < 30; n++) await say(c, `Day ${n}: I walked for ${n} minutes and felt fine.`);
    const body = await say(c, 'What dose of my diabetes medicine do I take?', { respond: true });
    expect(body.turn.number).toBe(30);
    const prompt = local.prompts
      .at(-1)!
      .map((m) => m.content)
      .join('\n');
    expect(prompt).toMatch(/metformin/i);
    expect(body.reply.content).toMatch(/metformin 500 mg/i);
  });

  it('never generates more than the tenant limit at once; every request completes or gets 429', async () => {
    const local = observedLocal(5);
    c = await start({ model: local.provider, config: { maxStreamsPerTenant: 5, streamMaxWait: 60 } });
    const conversations = await Promise.all(
      Array.from({ length: 20 }, () =>
        c.t.request({ method: 'POST', url: '/v1/conversations', token: c.token, body: {} }),
      ),
    );
    const results = await Promise.all(
      conversations.map((res, n) =>
        c.t.request({
          method: 'POST',
          url: `/v1/conversations/${res.json().id}/turns`,
          token: c.token,
          body: {
            role: 'user',
            content: `Question ${n} about my medications`,
            expectedTurn: 0,
            respond: true,
            priority: n % 3 === 0 ? 'high' : 'normal',
          },
        }),
      ),
    );
    expect(local.stats().maxActive).toBeLessThanOrEqual(5);
    expect(local.stats().maxActive).toBeGreaterThan(1);
    for (const res of results) expect([201, 429]).toContain(res.statusCode);
    expect(results.filter((res) => res.statusCode === 201).length).toBeGreaterThanOrEqual(5);
  });

  it('an emergency is flagged: escalation event, metric, and emergency handling in the prompt', async () => {
    const local = observedLocal();
    c = await start({ model: local.provider });
    const body = await say(c, 'I have crushing chest pain and my left arm is numb', { respond: true });
    expect(body.reply.role).toBe('assistant');
    const system = local.prompts
      .at(-1)!
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n');
    expect(system).toMatch(/emergency/i);
    const metrics = (await c.t.request({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/continuum_escalations_total\{intent="emergency"\} 1/);
    const events = c.t.services.events.subscribe(c.tenantId as never, c.id as never, null);
    const seen: string[] = [];
    for await (const event of events) {
      seen.push(event.event);
      if (event.event === 'done') break;
    }
    events.close();
    expect(seen).toContain('escalation');
  });
});
