import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import type { AuditEvent } from '../../../src/audit/event.ts';
import type { TenantId } from '../../../src/core/types.ts';
import { asConversationId, asTenantId } from '../../../src/core/types.ts';
import { buildTestApp, type TestApp, type TokenPair } from '../../helpers/test-app.ts';

/** One tenant of the world, with its owner's token and the conversation it owns. */
export interface Party {
  tenantId: string;
  apiKey: string;
  /** `patient-1`, scope `conversations`: owns `conversationId`. */
  owner: TokenPair;
  conversationId: string;
  /** The conversation's current turn. */
  turn: number;
}

/**
 * The app every hostile input is sent to, and what lives in it: tenant A
 * (an owner with a 3-turn conversation and a participant, another subject of
 * the same tenant, an admin-scope token) and tenant B (an owner with a
 * conversation of its own).
 */
export interface World {
  t: TestApp;
  a: Party & { other: TokenPair; participant: TokenPair; admin: TokenPair };
  b: Party;
  /** The refresh families of the tokens above: a snapshot checks none was revoked. */
  families: { tenantId: string; familyId: string }[];
  /**
   * The snapshot the last refused input left, when nothing has run since: the next input starts from it
   * instead of reading the store again. Whatever changes state on purpose sets it back to undefined.
   */
  settled?: Snapshot | undefined;
}

async function must(t: TestApp, what: string, call: Parameters<TestApp['request']>[0]) {
  const res = await t.request(call);
  if (res.statusCode >= 300) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
  return res.json();
}

async function conversationWith(t: TestApp, token: string, contents: string[]): Promise<string> {
  const created = await must(t, 'create conversation', {
    method: 'POST',
    url: '/v1/conversations',
    token,
    body: { title: 'Follow-up after discharge', metadata: { ward: '4B', visit: 2 } },
  });
  for (const [turn, content] of contents.entries()) {
    await must(t, 'append', {
      method: 'POST',
      url: `/v1/conversations/${created.id}/turns`,
      token,
      body: { role: turn % 2 === 0 ? 'user' : 'assistant', content, expectedTurn: turn },
    });
  }
  // A context read catches the working context up with every append: from here on nothing moves by itself.
  await must(t, 'read context', { method: 'GET', url: `/v1/conversations/${created.id}/context`, token });
  return created.id as string;
}

/** Build the world on a fresh app (real SQLite, real keys, fake clock). */
export async function buildWorld(): Promise<World> {
  const t = await buildTestApp();
  const tenantA = await t.createTenant('hostile-a');
  const tenantB = await t.createTenant('hostile-b');
  const owner = await t.token(tenantA.apiKey, 'patient-1');
  const a = {
    ...tenantA,
    owner,
    other: await t.token(tenantA.apiKey, 'patient-2'),
    participant: await t.token(tenantA.apiKey, 'patient-3'),
    admin: await t.token(tenantA.apiKey, 'auditor-1', 'admin'),
    conversationId: await conversationWith(t, owner.access_token, [
      'I take metformin 500 mg twice a day.',
      'Noted: metformin 500 mg twice daily.',
      'I am allergic to penicillin; it gives me a rash.',
    ]),
    turn: 3,
  };
  await must(t, 'add participant', {
    method: 'POST',
    url: `/v1/conversations/${a.conversationId}/participants`,
    token: owner.access_token,
    body: { subject: 'patient-3' },
  });
  const ownerB = await t.token(tenantB.apiKey, 'patient-1');
  const b = {
    ...tenantB,
    owner: ownerB,
    conversationId: await conversationWith(t, ownerB.access_token, ['My daughter Anna drives me to dialysis.']),
    turn: 1,
  };
  const families = [a.owner, a.other, a.participant, a.admin, b.owner].map((pair) => {
    const claims = decodeJwt(pair.access_token);
    return { tenantId: String(claims['tid']), familyId: String(claims['fid']) };
  });
  const world = { t, a, b, families };
  // The world is at rest: two snapshots in a row agree.
  const first = await snapshot(world);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expectUnchanged(first, await snapshot(world), 'the world at rest');
  return world;
}

/**
 * What a hostile input must not change, read straight from the store:
 * tenants and their API keys, signing keys, feature flags, every
 * conversation (row, turns with their hashes, working-context state,
 * participants, last stream event) and the fixture tokens' refresh families;
 * plus where each audit chain ends, so the events written after it can be
 * checked to be refusals only.
 */
export interface Snapshot {
  parts: Map<string, string>;
  auditHeads: Map<TenantId, number>;
}

export async function snapshot(world: World): Promise<Snapshot> {
  const store = world.t.services.store;
  const parts = new Map<string, string>();
  const put = (key: string, value: unknown) => parts.set(key, JSON.stringify(value));
  const tenants = await store.listTenants();
  put('tenants', tenants);
  put(
    'signing keys',
    (await store.listSigningKeys()).map((k) => [k.kid, k.retiredAt ?? null]),
  );
  put('flags', await store.listFlags());
  for (const tenant of tenants) {
    const tenantId = asTenantId(tenant.id);
    put(`${tenant.name} api keys`, await store.listApiKeys(tenantId));
    const conversations = [];
    let cursor: string | undefined;
    do {
      const page = await store.listConversations(tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
      conversations.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    put(`${tenant.name} conversations`, conversations);
    for (const conversation of conversations) {
      const id = asConversationId(conversation.id);
      const key = `${tenant.name} ${conversation.id}`;
      put(`${key} turns`, await store.listTurns(tenantId, id, 0, 100_000));
      put(`${key} context`, await store.getContextState(tenantId, id));
      put(`${key} participants`, await store.listParticipants(tenantId, id));
      put(`${key} last event`, await store.lastStreamEventId(tenantId, id));
    }
  }
  for (const { tenantId, familyId } of world.families) {
    const family = await store.getRefreshFamily(asTenantId(tenantId), familyId);
    put(`family ${familyId}`, family && { revokedAtMs: family.revokedAtMs, expiresAtMs: family.expiresAtMs });
  }
  const auditHeads = new Map<TenantId, number>();
  for (const tenantId of await store.listAuditTenants()) {
    auditHeads.set(tenantId, (await store.auditHead(tenantId))?.seq ?? 0);
  }
  return { parts, auditHeads };
}

/** Audit events written after `before` in every chain. */
export async function auditSince(world: World, before: Snapshot): Promise<AuditEvent[]> {
  const store = world.t.services.store;
  const events: AuditEvent[] = [];
  for (const tenantId of await store.listAuditTenants()) {
    events.push(
      ...(await store.listAuditEvents(tenantId, { afterSeq: before.auditHeads.get(tenantId) ?? 0, limit: 10_000 })),
    );
  }
  return events;
}

/** Everything in `after` equals `before`; names each part that differs. */
export function expectUnchanged(before: Snapshot, after: Snapshot, label: string): void {
  const changed: string[] = [];
  for (const key of new Set([...before.parts.keys(), ...after.parts.keys()])) {
    const was = before.parts.get(key);
    const is = after.parts.get(key);
    if (was !== is) changed.push(`${key}: ${String(was).slice(0, 300)} → ${String(is).slice(0, 300)}`);
  }
  expect(changed, `state changed after ${label}`).toEqual([]);
}

/**
 * "No state change": the snapshot is the same, and every audit event written
 * since `before` records a refusal (outcome `denied` or `failure`: a failed
 * authentication, a refused append, a denied read) — the refusal's own audit
 * trail, which ADR-007 requires. A checkpoint signed over those events is
 * not a change of what the tenant sees and is not compared.
 */
export async function expectNoStateChange(world: World, before: Snapshot, label: string): Promise<Snapshot> {
  const after = await snapshot(world);
  expectUnchanged(before, after, label);
  const granted = (await auditSince(world, before)).filter((event) => event.outcome === 'success');
  expect(
    granted.map((event) => `${event.action} ${event.outcome}`),
    `audit events other than refusals after ${label}`,
  ).toEqual([]);
  return after;
}
