import { afterEach, describe, expect, it } from 'vitest';
import { type ConversationEvent, createMemoryEventBus } from '../../src/sync/event-bus.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('EventBus', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('publishes every committed change of a conversation, in turn order, without message text', async () => {
    t = await buildTestApp();
    const { tenantId, apiKey } = await t.createTenant();
    const seen: ConversationEvent[] = [];
    t.services.bus.subscribe({ tenantId: tenantId as never }, (event) => seen.push(event));
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
    const appends = Array.from({ length: 10 }, (_, n) =>
      t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: `secret text ${n}`, expectedTurn: n },
      }),
    );
    await Promise.all(appends);
    // A refused append publishes nothing.
    await t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: { role: 'user', content: 'x', expectedTurn: 0 },
    });
    await t.request({ method: 'POST', url: `/v1/conversations/${id}/close`, token });
    const types = seen.map((event) => event.type);
    expect(types[0]).toBe('conversation.created');
    expect(types.at(-1)).toBe('conversation.closed');
    const turns = seen
      .filter((event) => event.type === 'turn.appended')
      .map((event) => (event as { turn: number }).turn);
    expect(turns).toEqual([...turns].sort((a, b) => a - b));
    expect(new Set(turns).size).toBe(turns.length);
    expect(JSON.stringify(seen)).not.toContain('secret text');
  });

  it('delivers per conversation and per tenant, isolates a failing handler, and unsubscribes', async () => {
    const errors: unknown[] = [];
    const bus = createMemoryEventBus({ onHandlerError: (error) => errors.push(error) });
    const got: string[] = [];
    const event = (tenantId: string, conversationId: string): ConversationEvent => ({
      type: 'conversation.created',
      tenantId: tenantId as never,
      conversationId: conversationId as never,
      at: new Date(0).toISOString(),
    });
    bus.subscribe({ tenantId: 'tnt_a' as never, conversationId: 'cnv_1' as never }, () => {
      throw new Error('handler bug');
    });
    const off = bus.subscribe({ tenantId: 'tnt_a' as never, conversationId: 'cnv_1' as never }, (e) =>
      got.push(`conv:${e.conversationId}`),
    );
    bus.subscribe({ tenantId: 'tnt_a' as never }, (e) => got.push(`tenant:${e.conversationId}`));
    await bus.publish(event('tnt_a', 'cnv_1'));
    await bus.publish(event('tnt_a', 'cnv_2'));
    await bus.publish(event('tnt_b', 'cnv_1'));
    off();
    await bus.publish(event('tnt_a', 'cnv_1'));
    expect(got).toEqual(['conv:cnv_1', 'tenant:cnv_1', 'tenant:cnv_2', 'tenant:cnv_1']);
    expect(errors).toHaveLength(2);
    await expect(bus.probe()).resolves.toBeUndefined();
  });
});
