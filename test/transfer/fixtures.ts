import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { asConversationId, asTenantId, type TenantId } from '../../src/core/types.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/port.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

/** A conversation made through the API, as a client would see it. */
export interface MadeConversation {
  id: string;
  clientKey: string;
  startedAt: string;
  turns: { number: number; role: string; content: string; hash: string }[];
}

/**
 * A source app with one tenant holding conversations (the first with two participants), context states,
 * stream events and audit checkpoints.
 */
export interface Source {
  t: TestApp;
  tenantId: TenantId;
  apiKey: string;
  subject: string;
  conversations: MadeConversation[];
}

export const STARTED_AT = '2026-11-25T07:30:00.000Z';

/** Build a populated source through the real app (checkpoint every 5 audit events). */
export async function buildSource(): Promise<Source> {
  const t = await buildTestApp({ config: { auditCheckpointEvery: 5, localWordDelayMs: 0 } });
  const { tenantId, apiKey } = await t.createTenant();
  const subject = 'patient-7';
  const token = (await t.token(apiKey, subject)).access_token;
  const conversations: MadeConversation[] = [];
  for (const [index, lines] of [
    ['I take metformin 500 mg twice a day.', 'I am allergic to penicillin.', 'My sister Ana drives me.'],
    ['Headache since Monday.'],
  ].entries()) {
    const clientKey = `visit-${index + 1}`;
    const created = await t.request({
      method: 'POST',
      url: '/v1/conversations',
      token,
      body: { title: `Visit ${index + 1}`, clientKey, startedAt: STARTED_AT, metadata: { ward: 'B' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    let turn = 0;
    for (const [n, content] of lines.entries()) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content, expectedTurn: turn, ...(n === 0 ? { respond: true } : {}) },
      });
      expect(res.statusCode, res.body).toBe(201);
      turn = res.json().reply?.number ?? res.json().turn.number;
    }
    // Reading the working context brings its stored state up to date.
    const context = await t.request({ method: 'GET', url: `/v1/conversations/${id}/context`, token });
    expect(context.statusCode, context.body).toBe(200);
    const turns = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token });
    conversations.push({ id, clientKey, startedAt: STARTED_AT, turns: turns.json().items });
  }
  // Participants of the first conversation, added a minute apart, each audited as it is added.
  const first = asConversationId(conversations[0]!.id);
  for (const [participant, addedBy] of [
    ['clinician-3', subject],
    ['carer-ana', 'admin:ops'],
  ] as const) {
    const at = new Date(t.clock.now());
    const added = await t.services.store.addParticipant(
      asTenantId(tenantId),
      first,
      { subject: participant, addedBy, addedAt: at.toISOString() },
      {
        at,
        events: (outcome) => [
          {
            action: 'participant.add',
            actor: { kind: 'subject', tenantId, subject },
            resource: { type: 'participant', id: first },
            outcome: outcome ? 'success' : 'failure',
            detail: { participant },
          },
        ],
      },
    );
    expect(added).toBe(true);
    t.clock.advance(60_000);
  }
  // Let the checkpoints scheduled after the writes land.
  await new Promise((resolve) => setImmediate(resolve));
  await t.services.audit.checkpoint(asTenantId(tenantId));
  return { t, tenantId: asTenantId(tenantId), apiKey, subject, conversations };
}

/** An empty, migrated target store in its own data dir, with a copy of the source's master key file. */
export async function emptyTarget(sourceDir: string | null): Promise<{ dir: string; store: Store; remove(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-transfer-'));
  if (sourceDir !== null) copyFileSync(path.join(sourceDir, MASTER_KEY_FILE), path.join(dir, MASTER_KEY_FILE));
  const store = createSqliteStore({ filename: path.join(dir, SQLITE_FILE) });
  await store.migrate();
  return { dir, store, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The local key provider of a data dir (generates a key file if there is none). */
export function keyProviderOf(dir: string) {
  return createLocalKeyProvider({ keyFile: path.join(dir, MASTER_KEY_FILE) });
}

/** Lines as the async iterable `importStream` reads. */
export async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}
