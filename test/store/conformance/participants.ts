import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/index.ts';
import type { AuditBatch, ParticipantRecord } from '../../../src/store/port.ts';
import {
  allAuditEvents,
  conversationIn,
  freshConversationId,
  freshTenant,
  iso,
  noAudit,
  recorder,
  T0,
  verifyAudit,
} from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

const participant = (subject: string, seconds = 0, addedBy = 'patient-1'): ParticipantRecord => ({
  subject,
  addedBy,
  addedAt: iso(seconds),
});

const subjects = (records: ParticipantRecord[]) => records.map((r) => r.subject);

/** Participants of collaborative conversations: add, remove, list, membership, tenant isolation, audit. */
export function participantTests(ctx: SuiteContext): void {
  describe('participants', () => {
    it('adds a participant once: a second add, from either client, is false and changes nothing', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      expect(await ctx.store.listParticipants(tenantId, id)).toEqual([]);
      const first = participant('clinician-1', 10, 'admin:ops');
      expect(await ctx.store.addParticipant(tenantId, id, first, noAudit())).toBe(true);
      expect(await ctx.other.addParticipant(tenantId, id, participant('clinician-1', 20), noAudit())).toBe(false);
      expect(await ctx.store.addParticipant(tenantId, id, participant('clinician-1', 30), noAudit())).toBe(false);
      expect(await ctx.other.listParticipants(tenantId, id)).toEqual([first]);
      expect(await ctx.other.isParticipant(tenantId, id, 'clinician-1')).toBe(true);
      expect(await ctx.store.isParticipant(tenantId, id, 'clinician-2')).toBe(false);
    });

    it('never stores the owner: adding the owner is false and the owner is not listed', async () => {
      const tenantId = freshTenant();
      const { id, subject } = await conversationIn(ctx.store, tenantId);
      expect(await ctx.store.addParticipant(tenantId, id, participant(subject), noAudit())).toBe(false);
      expect(await ctx.store.listParticipants(tenantId, id)).toEqual([]);
      expect(await ctx.other.isParticipant(tenantId, id, subject)).toBe(false);
    });

    it('lists participants oldest first, by addedAt then subject', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      const added = [
        participant('nurse-b', 30),
        participant('carer', 10),
        participant('nurse-a', 30),
        participant('doctor', 20),
      ];
      for (const [i, record] of added.entries()) {
        expect(await (i % 2 ? ctx.other : ctx.store).addParticipant(tenantId, id, record, noAudit())).toBe(true);
      }
      const listed = await ctx.other.listParticipants(tenantId, id);
      expect(subjects(listed)).toEqual(['carer', 'doctor', 'nurse-a', 'nurse-b']);
      expect(listed[0]).toEqual(participant('carer', 10));
      // Another conversation of the same tenant has participants of its own.
      const neighbour = await conversationIn(ctx.store, tenantId);
      expect(await ctx.store.listParticipants(tenantId, neighbour.id)).toEqual([]);
      expect(await ctx.store.isParticipant(tenantId, neighbour.id, 'carer')).toBe(false);
    });

    it('removes a participant once; a removed subject can be added again', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      await ctx.store.addParticipant(tenantId, id, participant('carer', 1), noAudit());
      await ctx.store.addParticipant(tenantId, id, participant('doctor', 2), noAudit());
      expect(await ctx.other.removeParticipant(tenantId, id, 'carer', noAudit())).toBe(true);
      expect(await ctx.store.removeParticipant(tenantId, id, 'carer', noAudit())).toBe(false);
      expect(await ctx.store.removeParticipant(tenantId, id, 'stranger', noAudit())).toBe(false);
      expect(await ctx.store.removeParticipant(tenantId, freshConversationId(), 'doctor', noAudit())).toBe(false);
      expect(subjects(await ctx.store.listParticipants(tenantId, id))).toEqual(['doctor']);
      expect(await ctx.store.isParticipant(tenantId, id, 'carer')).toBe(false);
      expect(await ctx.other.addParticipant(tenantId, id, participant('carer', 3), noAudit())).toBe(true);
      expect(subjects(await ctx.store.listParticipants(tenantId, id))).toEqual(['doctor', 'carer']);
    });

    it("keeps tenants apart: another tenant neither sees, lists, removes nor adds to a conversation's participants", async () => {
      const tenantId = freshTenant();
      const stranger = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      await ctx.store.addParticipant(tenantId, id, participant('carer'), noAudit());
      expect(await ctx.other.listParticipants(stranger, id)).toEqual([]);
      expect(await ctx.other.isParticipant(stranger, id, 'carer')).toBe(false);
      expect(await ctx.other.removeParticipant(stranger, id, 'carer', noAudit())).toBe(false);
      await expect(ctx.other.addParticipant(stranger, id, participant('intruder'), noAudit())).rejects.toMatchObject({
        code: 'not_found',
      });
      expect(subjects(await ctx.store.listParticipants(tenantId, id))).toEqual(['carer']);
      expect(await ctx.store.isParticipant(tenantId, id, 'intruder')).toBe(false);
    });

    it('refuses an unknown conversation with not_found, stores nothing, and still audits the refusal', async () => {
      const tenantId = freshTenant();
      const id = freshConversationId();
      const audit = recorder<boolean>();
      const error = await ctx.store
        .addParticipant(tenantId, id, participant('carer'), audit.batch)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'not_found' });
      expect(audit.outcomes).toEqual([false]);
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
      expect(await ctx.other.listParticipants(tenantId, id)).toEqual([]);
      expect(await ctx.other.isParticipant(tenantId, id, 'carer')).toBe(false);
    });

    it('writes each call’s audit events with its outcome, in the same step as the change', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      const calls = [recorder<boolean>(), recorder<boolean>(), recorder<boolean>(), recorder<boolean>()];
      expect(await ctx.store.addParticipant(tenantId, id, participant('carer'), calls[0]!.batch)).toBe(true);
      expect(await ctx.other.addParticipant(tenantId, id, participant('carer'), calls[1]!.batch)).toBe(false);
      expect(await ctx.other.removeParticipant(tenantId, id, 'carer', calls[2]!.batch)).toBe(true);
      expect(await ctx.store.removeParticipant(tenantId, id, 'carer', calls[3]!.batch)).toBe(false);
      expect(calls.map((c) => c.outcomes)).toEqual([[true], [false], [true], [false]]);
      const events = await allAuditEvents(ctx.store, tenantId);
      expect(events.map((e) => e.resource.id)).toEqual(calls.map((c) => c.marker));
      expect(events.map((e) => e.detail?.note)).toEqual(['true', 'false', 'true', 'false']);
      expect(await verifyAudit(ctx.other, tenantId)).toMatchObject({ ok: true, checked: 4 });
    });

    it('an audit batch that throws leaves neither the change nor any event', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      const failing: AuditBatch<boolean> = {
        at: new Date(T0),
        events: () => {
          throw new Error('audit refused');
        },
      };
      await expect(ctx.store.addParticipant(tenantId, id, participant('carer'), failing)).rejects.toThrow();
      expect(await ctx.store.listParticipants(tenantId, id)).toEqual([]);
      await ctx.store.addParticipant(tenantId, id, participant('doctor'), noAudit());
      await expect(ctx.other.removeParticipant(tenantId, id, 'doctor', failing)).rejects.toThrow();
      expect(subjects(await ctx.store.listParticipants(tenantId, id))).toEqual(['doctor']);
      expect(await allAuditEvents(ctx.store, tenantId)).toEqual([]);
    });

    it('of 12 adds of one subject racing from two clients, exactly one is true; each is audited', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      const audits = Array.from({ length: 12 }, () => recorder<boolean>());
      const results = await Promise.all(
        audits.map((audit, i) =>
          (i % 2 ? ctx.other : ctx.store).addParticipant(tenantId, id, participant('carer', i), audit.batch),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await ctx.store.listParticipants(tenantId, id)).toEqual([participant('carer', winner)]);
      expect(audits.map((a) => a.outcomes)).toEqual(results.map((r) => [r]));
      expect(await verifyAudit(ctx.store, tenantId)).toMatchObject({ ok: true, checked: 12 });
    });

    it('refuses a malformed participant with a TypeError', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      await expect(
        ctx.store.addParticipant(tenantId, id, { ...participant('carer'), subject: '' }, noAudit()),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await ctx.store.listParticipants(tenantId, id)).toEqual([]);
    });
  });
}
