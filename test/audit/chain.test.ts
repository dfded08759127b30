import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventHash, sealEvent } from '../../src/audit/chain.ts';
import {
  AUDIT_ACTIONS,
  type AuditEvent,
  type AuditEventInput,
  GENESIS_HASH,
  isAuditAction,
  SYSTEM_TENANT,
} from '../../src/audit/event.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { buildChain, inputFor, minutes, TENANT } from './fixtures.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function withoutHash(event: AuditEvent): Omit<AuditEvent, 'hash'> {
  const { hash: _hash, ...rest } = event;
  return rest;
}

describe('AUDIT_ACTIONS', () => {
  const required = [
    'tenant.create',
    'api_key.create',
    'token.issue',
    'token.refresh',
    'token.revoke',
    'token.refresh_reused',
    'auth.failure',
    'conversation.create',
    'conversation.read',
    'conversation.list',
    'conversation.close',
    'turn.append',
    'turn.read',
    'context.read',
    'search.read',
    'participant.add',
    'participant.remove',
    'profile.update',
    'flag.update',
    'audit.read',
    'audit.verify',
    'audit.export',
    'export.create',
    'import.create',
    'key.rotate',
    'signing_key.rotate',
  ];

  it('lists every audited action once, each with a description', () => {
    const names = AUDIT_ACTIONS.map((a) => a.action);
    expect([...names].sort()).toEqual([...required].sort());
    for (const { description } of AUDIT_ACTIONS) expect(description.length).toBeGreaterThan(10);
    expect(isAuditAction('turn.append')).toBe(true);
    expect(isAuditAction('turn.delete')).toBe(false);
  });

  it('names the system tenant chain', () => {
    expect(SYSTEM_TENANT).toBe('tnt_system');
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });
});

describe('sealEvent', () => {
  it('starts a chain at seq 1 linked to the genesis hash', () => {
    const event = sealEvent(null, TENANT, inputFor(1), minutes(1));
    expect(event).toMatchObject({ tenantId: TENANT, seq: 1, prevHash: GENESIS_HASH, at: '2026-01-01T08:01:00.000Z' });
    expect(event.hash).toBe(sha256(GENESIS_HASH + canonicalJson(withoutHash(event))));
  });

  it('links each event to the hash of the one before', () => {
    const events = buildChain(5);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < events.length; i += 1) {
      const event = events[i]!;
      expect(event.prevHash).toBe(events[i - 1]!.hash);
      expect(event.hash).toBe(sha256(event.prevHash + canonicalJson(withoutHash(event))));
    }
    expect(new Set(events.map((e) => e.hash)).size).toBe(5);
  });

  it('is deterministic and independent of key order', () => {
    const input = inputFor(1);
    const reordered: AuditEventInput = {
      outcome: input.outcome,
      detail: input.detail,
      resource: { id: input.resource.id, type: input.resource.type },
      actor: {
        ip: input.actor.ip,
        kind: input.actor.kind,
        subject: input.actor.subject,
        tokenId: input.actor.tokenId,
        tenantId: input.actor.tenantId,
      },
      action: input.action,
    };
    expect(sealEvent(null, TENANT, reordered, minutes(1))).toEqual(sealEvent(null, TENANT, input, minutes(1)));
  });

  it('copies its input, keeping only documented fields', () => {
    const input = inputFor(1) as AuditEventInput & { body?: string };
    input.body = 'I have chest pain';
    const event = sealEvent(null, TENANT, input, minutes(1));
    input.actor.subject = 'someone-else';
    input.detail!['turn'] = 99;
    expect(event.actor.subject).toBe('patient-42');
    expect(event.detail).toEqual({ turn: 1 });
    expect(JSON.stringify(event)).not.toContain('chest pain');
  });

  it('refuses malformed input with TypeError', () => {
    const ok = inputFor(1);
    const at = minutes(1);
    expect(() => sealEvent(null, '', ok, at)).toThrow(TypeError);
    expect(() => sealEvent(null, TENANT, ok, new Date(Number.NaN))).toThrow(TypeError);
    expect(() => sealEvent({ seq: 0, hash: GENESIS_HASH }, TENANT, ok, at)).toThrow(TypeError);
    expect(() => sealEvent({ seq: 1, hash: 'nothex' }, TENANT, ok, at)).toThrow(TypeError);
    expect(() => sealEvent(null, TENANT, { ...ok, action: 'Turn Append' }, at)).toThrow(/action/);
    expect(() => sealEvent(null, TENANT, { ...ok, outcome: 'maybe' as never }, at)).toThrow(/outcome/);
    expect(() => sealEvent(null, TENANT, { ...ok, actor: { kind: 'robot' as never } }, at)).toThrow(/actor.kind/);
    expect(() => sealEvent(null, TENANT, { ...ok, resource: { type: 'patient' as never } }, at)).toThrow(
      /resource.type/,
    );
    expect(() => sealEvent(null, TENANT, { ...ok, detail: { nested: {} as never } }, at)).toThrow(/detail.nested/);
    expect(() => sealEvent(null, TENANT, { ...ok, detail: { n: Number.POSITIVE_INFINITY } }, at)).toThrow(/finite/);
    expect(() => sealEvent(null, TENANT, { ...ok, detail: { text: 'x'.repeat(257) } }, at)).toThrow(/PHI/);
  });
});

describe('eventHash', () => {
  const [event] = buildChain(1) as [AuditEvent];

  it('recomputes the stored hash', () => {
    expect(eventHash(event)).toBe(event.hash);
  });

  it('changes when any hashed field changes', () => {
    const edits: Array<(e: AuditEvent) => void> = [
      (e) => {
        e.tenantId = 'tnt_other';
      },
      (e) => {
        e.seq = 2;
      },
      (e) => {
        e.at = '2026-01-01T08:01:00.001Z';
      },
      (e) => {
        e.prevHash = '1'.repeat(64);
      },
      (e) => {
        e.action = 'turn.read';
      },
      (e) => {
        e.actor.ip = '198.51.100.1';
      },
      (e) => {
        e.resource.id = 'cnv_b/1';
      },
      (e) => {
        e.outcome = 'failure';
      },
      (e) => {
        e.detail = { turn: 2 };
      },
    ];
    for (const edit of edits) {
      const copy = structuredClone(event);
      edit(copy);
      expect(eventHash(copy)).not.toBe(event.hash);
    }
  });

  it('hashes rows read back with NULL optional columns and extra columns the same', () => {
    const bare = sealEvent(
      null,
      TENANT,
      { action: 'audit.read', actor: { kind: 'system' }, resource: { type: 'audit' }, outcome: 'success' },
      minutes(1),
    );
    const row = {
      ...bare,
      rowId: 17,
      detail: null,
      actor: { ...bare.actor, subject: null, ip: null },
      resource: { ...bare.resource, id: null },
    } as unknown as AuditEvent;
    expect(eventHash(row)).toBe(bare.hash);
    expect(eventHash({ ...bare, detail: {} })).toBe(bare.hash);
  });
});
