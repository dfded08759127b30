import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_TENANT } from '../../src/audit/event.ts';
import { SigningKeyring } from '../../src/auth/signing-keys.ts';
import { asConversationId, type ConversationId } from '../../src/core/types.ts';
import type { Store } from '../../src/store/port.ts';
import { exportTenants } from '../../src/transfer/export.ts';
import type { ExportLine } from '../../src/transfer/format.ts';
import { importStream } from '../../src/transfer/import.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { buildSource, emptyTarget, keyProviderOf, linesOf, type Source } from './fixtures.ts';

const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as ExportLine);

async function allAuditEvents(store: Store, tenantId: Parameters<Store['listAuditEvents']>[0]) {
  return store.listAuditEvents(tenantId, { afterSeq: 0, limit: 10_000 });
}

describe('export and import of a tenant between SQLite stores', () => {
  let source: Source;
  let lines: string[];
  let sourceStore: Store;

  beforeAll(async () => {
    source = await buildSource();
    sourceStore = source.t.services.store;
    lines = [];
    await exportTenants(sourceStore, {
      tenantIds: [source.tenantId],
      write: (line) => {
        lines.push(line);
      },
      actor: { kind: 'operator' },
    });
  });
  afterAll(async () => source?.t.close());

  it('writes a header, the secret, public keys, the tenant, its records and an end record with the counts', async () => {
    const records = parsed(lines);
    const header = records[0]!;
    expect(header).toMatchObject({ type: 'continuum-export', version: 1, source: 'sqlite', system: false });
    expect(header.type === 'continuum-export' && header.tenants).toEqual([source.tenantId]);
    const types = new Set(records.map((r) => r.type));
    for (const type of [
      'secret',
      'public_key',
      'tenant',
      'data_key',
      'conversation',
      'turn',
      'participant',
      'context_state',
      'stream_event',
      'audit_event',
      'audit_checkpoint',
    ]) {
      expect(types.has(type as ExportLine['type']), type).toBe(true);
    }
    const end = records.at(-1)!;
    expect(end.type).toBe('end');
    const turns = records.filter((r) => r.type === 'turn').length;
    expect(end.type === 'end' && end.counts).toMatchObject({
      tenants: 1,
      conversations: 2,
      turns,
      participants: 2,
      secrets: 1,
    });
    // A conversation's participants follow its last turn, oldest first, before its context state.
    const first = source.conversations[0]!;
    const ofFirst = records.filter(
      (r) =>
        (r.type === 'conversation' && r.conversation.id === first.id) ||
        (r.type === 'turn' && r.turn.conversationId === first.id) ||
        ((r.type === 'participant' || r.type === 'context_state') && r.conversationId === first.id),
    );
    expect(ofFirst.map((r) => r.type)).toEqual([
      'conversation',
      ...first.turns.map(() => 'turn'),
      'participant',
      'participant',
      'context_state',
    ]);
    expect(ofFirst.flatMap((r) => (r.type === 'participant' ? [r.participant.subject] : []))).toEqual([
      'clinician-3',
      'carer-ana',
    ]);
    // Private signing keys never leave the store; refresh tokens are not exported.
    expect(lines.join('\n')).not.toMatch(/"d":|refresh/i);
    const sourceEvents = await allAuditEvents(sourceStore, source.tenantId);
    expect(sourceEvents.at(-1)).toMatchObject({ action: 'export.create', outcome: 'success' });
  });

  it('imports into a fresh store: same ids, turns, hashes, state and audit chain; the content opens and the same client key finds the same conversation', async () => {
    const target = await emptyTarget(source.t.dataDir);
    try {
      const result = await importStream(target.store, linesOf(lines), {
        keyProvider: await keyProviderOf(target.dir),
      });
      expect(result).toMatchObject({ tenants: [source.tenantId], source: 'sqlite', systemChain: 'absent' });
      expect(result.counts.conversations).toBe(2);

      expect(await target.store.getTenant(source.tenantId)).toEqual(await sourceStore.getTenant(source.tenantId));
      expect(await target.store.listApiKeys(source.tenantId)).toEqual(await sourceStore.listApiKeys(source.tenantId));
      for (const made of source.conversations) {
        const id = asConversationId(made.id);
        expect(await target.store.getConversation(source.tenantId, id)).toEqual(
          await sourceStore.getConversation(source.tenantId, id),
        );
        expect(await target.store.listTurns(source.tenantId, id, 0, 100)).toEqual(
          await sourceStore.listTurns(source.tenantId, id, 0, 100),
        );
        expect(await target.store.getContextState(source.tenantId, id)).toEqual(
          await sourceStore.getContextState(source.tenantId, id),
        );
        expect(await target.store.listStreamEvents(source.tenantId, id, null, 100)).toEqual(
          await sourceStore.listStreamEvents(source.tenantId, id, null, 100),
        );
        expect(await target.store.listParticipants(source.tenantId, id)).toEqual(
          await sourceStore.listParticipants(source.tenantId, id),
        );
      }
      const first = asConversationId(source.conversations[0]!.id);
      const participants = await target.store.listParticipants(source.tenantId, first);
      expect(participants.map((p) => [p.subject, p.addedBy])).toEqual([
        ['clinician-3', source.subject],
        ['carer-ana', 'admin:ops'],
      ]);
      expect(await target.store.isParticipant(source.tenantId, first, 'carer-ana')).toBe(true);
      const exported = parsed(lines).filter((r) => r.type === 'audit_event').length;
      const sourceEvents = (await allAuditEvents(sourceStore, source.tenantId)).slice(0, exported);
      const targetEvents = await allAuditEvents(target.store, source.tenantId);
      expect(targetEvents.slice(0, exported)).toEqual(sourceEvents);
      expect(targetEvents.at(-1)).toMatchObject({
        seq: exported + 1,
        action: 'import.create',
        actor: { kind: 'operator' },
        detail: { conversations: 2, participants: 2, source: 'sqlite', auditEvents: exported },
      });
      await target.store.close();

      const t = await buildTestApp({ dataDir: target.dir });
      try {
        expect(await t.services.audit.verify(source.tenantId)).toMatchObject({ ok: true, checked: exported + 1 });
        const token = (await t.token(source.apiKey, source.subject)).access_token;
        for (const made of source.conversations) {
          const turns = await t.request({ method: 'GET', url: `/v1/conversations/${made.id}/turns`, token });
          expect(turns.statusCode, turns.body).toBe(200);
          expect(turns.json().items).toEqual(made.turns);
          const again = await t.request({
            method: 'POST',
            url: '/v1/conversations',
            token,
            body: { clientKey: made.clientKey, startedAt: made.startedAt },
          });
          expect(again.statusCode, again.body).toBe(200);
          expect(again.json().id).toBe(made.id);
        }
      } finally {
        await t.close();
      }
    } finally {
      target.remove();
    }
  });

  it('refuses a tampered turn hash, naming its line, and writes nothing of that conversation', async () => {
    const index = lines.findIndex((line) => {
      const r = JSON.parse(line) as ExportLine;
      return r.type === 'turn' && r.turn.conversationId === source.conversations[0]!.id && r.turn.number === 2;
    });
    const record = JSON.parse(lines[index]!) as Extract<ExportLine, { type: 'turn' }>;
    record.turn.hash = record.turn.hash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const tampered = lines.with(index, JSON.stringify(record));
    const conversationId = source.conversations[0]!.id as ConversationId;

    const checked = await emptyTarget(source.t.dataDir);
    try {
      const keyProvider = await keyProviderOf(checked.dir);
      await expect(importStream(checked.store, linesOf(tampered), { keyProvider })).rejects.toMatchObject({
        code: 'state_corrupt',
        message: expect.stringMatching(new RegExp(`^line ${index + 1}: .*turn 2 does not match its hash`)),
      });
      expect(await checked.store.getConversation(source.tenantId, conversationId)).toBeNull();
      expect(await checked.store.listTurns(source.tenantId, conversationId, 0, 100)).toEqual([]);
    } finally {
      await checked.store.close();
      checked.remove();
    }
    // Without a key provider the content is not opened; the next link breaks instead.
    const linked = await emptyTarget(null);
    try {
      await expect(importStream(linked.store, linesOf(tampered))).rejects.toThrow(
        new RegExp(`^line ${index + 2}: turn 3 of ${conversationId} does not link to the hash of turn 2`),
      );
      expect(await linked.store.getConversation(source.tenantId, conversationId)).toBeNull();
    } finally {
      await linked.store.close();
      linked.remove();
    }
  });

  it('verifies the audit chain and its signed checkpoints while reading, naming the bad line', async () => {
    const eventLine = lines.findIndex((line) => line.includes('"action":"turn.append"'));
    const edited = lines.with(eventLine, lines[eventLine]!.replace('"outcome":"success"', '"outcome":"failure"'));
    const seq = (JSON.parse(lines[eventLine]!) as Extract<ExportLine, { type: 'audit_event' }>).event.seq;
    const withoutKeys = lines.filter((line) => !line.startsWith('{"type":"public_key"'));
    const firstCheckpoint = withoutKeys.findIndex((line) => line.startsWith('{"type":"audit_checkpoint"'));
    for (const [file, expected] of [
      [
        edited,
        new RegExp(
          `^line ${eventLine + 1}: the audit chain of ${source.tenantId} fails verification at seq ${seq} \\(hash_mismatch\\)`,
        ),
      ],
      // Without the source's public keys no checkpoint can be trusted.
      [withoutKeys, new RegExp(`^line ${firstCheckpoint + 1}: .*\\(bad_checkpoint_signature\\)`)],
    ] as const) {
      const target = await emptyTarget(null);
      try {
        await expect(importStream(target.store, linesOf(file))).rejects.toMatchObject({
          code: 'state_corrupt',
          message: expect.stringMatching(expected),
        });
        expect(await target.store.auditHead(source.tenantId)).toBeNull();
      } finally {
        await target.store.close();
        target.remove();
      }
    }
  });

  it('refuses a truncated file, wherever it was cut, and a trailer that disagrees with the records', async () => {
    for (const cut of [lines.length - 1, Math.floor(lines.length / 2), 3]) {
      const target = await emptyTarget(null);
      try {
        await expect(importStream(target.store, linesOf(lines.slice(0, cut)))).rejects.toThrow(/truncated/);
      } finally {
        await target.store.close();
        target.remove();
      }
    }
    const cutMidLine = [...lines.slice(0, 8), lines[8]!.slice(0, 20)];
    const cutTarget = await emptyTarget(null);
    try {
      await expect(importStream(cutTarget.store, linesOf(cutMidLine))).rejects.toThrow(
        /^line 9 is cut short: the file is truncated$/,
      );
    } finally {
      await cutTarget.store.close();
      cutTarget.remove();
    }
    const dropped = lines.filter((_line, i) => i !== lines.findIndex((l) => l.includes('"type":"stream_event"')));
    const target = await emptyTarget(null);
    try {
      await expect(importStream(target.store, linesOf(dropped))).rejects.toThrow(
        /the end record counts \d+ streamEvents but the file holds \d+/,
      );
    } finally {
      await target.store.close();
      target.remove();
    }
  });

  it('refuses to import the same tenant twice with tenant_exists', async () => {
    const target = await emptyTarget(source.t.dataDir);
    try {
      const keyProvider = await keyProviderOf(target.dir);
      await importStream(target.store, linesOf(lines), { keyProvider });
      const tenantLine = lines.findIndex((line) => line.startsWith('{"type":"tenant"')) + 1;
      await expect(importStream(target.store, linesOf(lines), { keyProvider })).rejects.toMatchObject({
        code: 'tenant_exists',
        message: `line ${tenantLine}: tenant ${source.tenantId} (${(await sourceStore.getTenant(source.tenantId))!.name}) already exists on the target; an import never merges into an existing tenant`,
      });
    } finally {
      await target.store.close();
      target.remove();
    }
  });

  it('refuses a target with a different session-id secret before writing anything', async () => {
    const target = await emptyTarget(source.t.dataDir);
    try {
      await target.store.getOrCreateSecret('session-id-secret', () => 'another-secret-another-secret-another-secret');
      await expect(importStream(target.store, linesOf(lines))).rejects.toThrow(
        /^line 2: the target already has a different session-id-secret: conversation ids are derived from it/,
      );
      expect(await target.store.listTenants()).toEqual([]);
    } finally {
      await target.store.close();
      target.remove();
    }
  });

  it("refuses a target whose master key cannot unwrap the tenant's data keys, before writing the tenant", async () => {
    const target = await emptyTarget(null);
    try {
      const keyLine = lines.findIndex((line) => line.startsWith('{"type":"data_key"')) + 1;
      await expect(
        importStream(target.store, linesOf(lines), { keyProvider: await keyProviderOf(target.dir) }),
      ).rejects.toThrow(new RegExp(`^line ${keyLine}: this server's master key cannot unwrap data key 1 of`));
      expect(await target.store.listTenants()).toEqual([]);
    } finally {
      await target.store.close();
      target.remove();
    }
  });

  it('names the line of a malformed record, and refuses a file that is not an export', async () => {
    const target = await emptyTarget(null);
    try {
      await expect(importStream(target.store, linesOf(lines.with(4, '{oops')))).rejects.toThrow(
        /^line 5: not a JSON record$/,
      );
      const badTurn = lines.findIndex((line) => line.startsWith('{"type":"turn"'));
      const broken = lines.with(badTurn, lines[badTurn]!.replace('"number":', '"number":"x","was":'));
      await expect(importStream(target.store, linesOf(broken))).rejects.toThrow(
        new RegExp(`^line ${badTurn + 1}: bad turn record: turn number must be an integer >= 1`),
      );
      await expect(importStream(target.store, linesOf(lines.slice(1)))).rejects.toThrow(
        /^line 1: not a Continuum export/,
      );
      await expect(importStream(target.store, linesOf([]))).rejects.toThrow(/empty/);
    } finally {
      await target.store.close();
      target.remove();
    }
  });
});

describe('export and import of every tenant', () => {
  it('carries the system chain into a store that has none, and verifies but skips it where one exists', async () => {
    const source = await buildSource();
    const second = await source.t.createTenant();
    const lines: string[] = [];
    try {
      await exportTenants(source.t.services.store, { write: (line) => void lines.push(line) });
      const header = JSON.parse(lines[0]!) as ExportLine;
      const both = [source.tenantId, second.tenantId].sort();
      expect(header).toMatchObject({ system: true });
      expect(header.type === 'continuum-export' && [...header.tenants].sort()).toEqual(both);

      const fresh = await emptyTarget(source.t.dataDir);
      try {
        const result = await importStream(fresh.store, linesOf(lines), {
          keyProvider: await keyProviderOf(fresh.dir),
        });
        expect(result.systemChain).toBe('imported');
        expect([...result.tenants].sort()).toEqual(both);
        expect(await allAuditEvents(fresh.store, SYSTEM_TENANT)).toEqual(
          await allAuditEvents(source.t.services.store, SYSTEM_TENANT),
        );
        expect(await fresh.store.listTenants()).toEqual(await source.t.services.store.listTenants());
      } finally {
        await fresh.store.close();
        fresh.remove();
      }

      const served = await emptyTarget(source.t.dataDir);
      try {
        await new SigningKeyring({ store: served.store, clock: source.t.clock }).init();
        const result = await importStream(served.store, linesOf(lines), {
          keyProvider: await keyProviderOf(served.dir),
        });
        expect(result.systemChain).toBe('skipped');
        expect([...result.tenants].sort()).toEqual(both);
        expect(await allAuditEvents(served.store, SYSTEM_TENANT)).toHaveLength(1);
      } finally {
        await served.store.close();
        served.remove();
      }
    } finally {
      await source.t.close();
    }
  });
});
