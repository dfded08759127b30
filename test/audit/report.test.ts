import { describe, expect, it } from 'vitest';
import { createSummaryBuilder, summarize } from '../../src/audit/report.ts';
import { buildChain, minutes, toAsync } from './fixtures.ts';

// Five inputs repeat: turn.append (patient-42), conversation.read (clinician-7),
// token.refresh (patient-42, denied), tenant.create (operator), audit.verify (system, failure).
const events = buildChain(20);

describe('summarize', () => {
  it('counts every event by action, actor and outcome', () => {
    expect(summarize(events, {})).toEqual({
      total: 20,
      byAction: { 'audit.verify': 4, 'conversation.read': 4, 'tenant.create': 4, 'token.refresh': 4, 'turn.append': 4 },
      byActor: { operator: 4, 'subject:clinician-7': 4, 'subject:patient-42': 8, system: 4 },
      byOutcome: { denied: 4, failure: 4, success: 12 },
    });
  });

  it('keeps events in [from, to) and echoes the range', () => {
    const summary = summarize(events, { from: minutes(3), to: minutes(8) });
    expect(summary).toEqual({
      from: '2026-01-01T08:03:00.000Z',
      to: '2026-01-01T08:08:00.000Z',
      total: 5,
      byAction: { 'audit.verify': 1, 'conversation.read': 1, 'tenant.create': 1, 'token.refresh': 1, 'turn.append': 1 },
      byActor: { operator: 1, 'subject:clinician-7': 1, 'subject:patient-42': 2, system: 1 },
      byOutcome: { denied: 1, failure: 1, success: 3 },
    });
    expect(summarize(events, { from: minutes(19) }).total).toBe(2);
    expect(summarize(events, { to: minutes(2) }).total).toBe(1);
    expect(summarize(events, { from: minutes(100) })).toMatchObject({
      total: 0,
      byAction: {},
      byActor: {},
      byOutcome: {},
    });
  });

  it('filters by time, not by position', () => {
    expect(summarize([...events].reverse(), { from: minutes(3), to: minutes(8) }).total).toBe(5);
  });

  it('counts an anonymous actor and a subject-less subject by kind', () => {
    const [first] = events;
    const anon = { ...first!, actor: { kind: 'anonymous' as const } };
    const bare = { ...first!, actor: { kind: 'subject' as const } };
    expect(summarize([anon, bare], {}).byActor).toEqual({ anonymous: 1, subject: 1 });
  });

  it('refuses an invalid or inverted range with TypeError', () => {
    expect(() => summarize(events, { from: new Date('nope') })).toThrow(TypeError);
    expect(() => summarize(events, { from: minutes(5), to: minutes(4) })).toThrow(TypeError);
  });

  it('summarizes an async source through the builder', async () => {
    const builder = createSummaryBuilder({ from: minutes(1), to: minutes(6) });
    for await (const event of toAsync(events)) builder.add(event);
    expect(builder.result()).toEqual(summarize(events, { from: minutes(1), to: minutes(6) }));
  });
});
