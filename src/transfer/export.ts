import type { AuditActor } from '../audit/event.ts';
import { SYSTEM_TENANT } from '../audit/event.ts';
import { newSessionIdSecret } from '../conversations/session-id.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { Store, TenantRecord } from '../store/port.ts';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportLine,
  SESSION_ID_SECRET,
  type TransferCounts,
  type TransferProgress,
  zeroCounts,
} from './format.ts';

/** Options of {@link exportTenants}. */
export interface ExportOptions {
  /** The tenants to export; every tenant (and the system audit chain) when omitted. */
  tenantIds?: TenantId[];
  /** Receives each record as one line of JSON, without the newline; awaited, so a slow sink slows the export. */
  write: (line: string) => Promise<void> | void;
  onProgress?: (progress: TransferProgress) => void;
  /** When given, an `export.create` event by this actor is appended to each exported tenant's audit chain. */
  actor?: AuditActor;
  clock?: Clock;
}

const PAGE = 500;

/**
 * Streams tenants out of a store as an export file (see `format.ts`): one
 * page of conversations, turns or audit events in memory at a time. Each
 * conversation is consistent up to the head it had when read; rows written
 * while the export runs may or may not be included. Returns the counts also
 * written in the trailer.
 *
 * @example
 * const out = createWriteStream('tenants.ndjson', { mode: 0o600 });
 * const counts = await exportTenants(store, { write: (line) => void out.write(`${line}\n`) });
 */
export async function exportTenants(store: Store, options: ExportOptions): Promise<TransferCounts> {
  if (typeof options?.write !== 'function') throw new TypeError('exportTenants: options.write must be a function');
  const clock = options.clock ?? systemClock;
  const all = options.tenantIds === undefined;
  const tenants = all ? await store.listTenants() : await named(store, options.tenantIds ?? []);
  const counts = zeroCounts();
  let tenantsDone = 0;
  const emit: Emit = async (record, counted, also) => {
    await options.write(JSON.stringify(record));
    if (counted === undefined) return;
    counts[counted] += 1;
    for (const [name, by] of Object.entries(also ?? {}) as [keyof TransferCounts, number][]) counts[name] += by;
    options.onProgress?.({ counts, tenantsDone, tenantsTotal: tenants.length });
  };

  const systemHead = all ? await store.auditHead(SYSTEM_TENANT) : null;
  await emit({
    type: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: new Date(clock.now()).toISOString(),
    source: store.kind,
    tenants: tenants.map((t) => t.id),
    system: systemHead !== null,
  });
  const secret = await store.getOrCreateSecret(SESSION_ID_SECRET, newSessionIdSecret);
  await emit({ type: 'secret', name: SESSION_ID_SECRET, value: secret }, 'secrets');
  for (const key of await store.listSigningKeys()) {
    await emit(
      { type: 'public_key', kid: key.kid, jwk: JSON.parse(key.publicJwk) as Record<string, unknown> },
      'publicKeys',
    );
  }
  if (systemHead !== null) await exportChain(store, SYSTEM_TENANT, emit);

  for (const tenant of tenants) {
    const before = { ...counts };
    await exportTenant(store, tenant, emit);
    tenantsDone += 1;
    options.onProgress?.({ counts, tenantsDone, tenantsTotal: tenants.length });
    if (options.actor !== undefined) {
      await store.appendAudit(
        tenant.id,
        [
          {
            action: 'export.create',
            actor: options.actor,
            resource: { type: 'tenant', id: tenant.id },
            outcome: 'success',
            detail: {
              conversations: counts.conversations - before.conversations,
              turns: counts.turns - before.turns,
              participants: counts.participants - before.participants,
              auditEvents: counts.auditEvents - before.auditEvents,
            },
          },
        ],
        new Date(clock.now()),
      );
    }
  }
  await emit({ type: 'end', counts });
  return { ...counts };
}

/** Write one record and count it (and `also`, e.g. the API keys a tenant record carries). */
type Emit = (
  record: ExportLine,
  counted?: keyof TransferCounts,
  also?: Partial<Record<keyof TransferCounts, number>>,
) => Promise<void>;

async function named(store: Store, ids: TenantId[]): Promise<TenantRecord[]> {
  const tenants: TenantRecord[] = [];
  for (const id of new Set(ids)) {
    const tenant = await store.getTenant(id);
    if (!tenant) throw new AppError('not_found', `No tenant ${id} in this store`);
    tenants.push(tenant);
  }
  return tenants;
}

async function exportTenant(store: Store, tenant: TenantRecord, emit: Emit): Promise<void> {
  const apiKeys = await store.listApiKeys(tenant.id);
  await emit({ type: 'tenant', tenant, apiKeys }, 'tenants', { apiKeys: apiKeys.length });
  const dataKeys = await store.listDataKeys(tenant.id);
  dataKeys.sort((a, b) => a.version - b.version);
  for (const key of dataKeys) {
    await emit(
      {
        type: 'data_key',
        dataKey: {
          tenantId: key.tenantId,
          version: key.version,
          masterKeyId: key.masterKeyId,
          wrapped: key.wrapped.toString('base64'),
          createdAt: key.createdAt,
        },
      },
      'dataKeys',
    );
  }
  // Stores list newest first; the target lists in the order it was given, so give it oldest first.
  for (const id of (await conversationIds(store, tenant.id)).reverse()) {
    await exportConversation(store, tenant.id, id, emit);
  }
  await exportChain(store, tenant.id, emit);
}

async function conversationIds(store: Store, tenantId: TenantId): Promise<ConversationId[]> {
  const ids: ConversationId[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listConversations(tenantId, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const item of page.items) ids.push(item.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

async function exportConversation(store: Store, tenantId: TenantId, id: ConversationId, emit: Emit): Promise<void> {
  const conversation = await store.getConversation(tenantId, id);
  if (!conversation) return;
  await emit({ type: 'conversation', conversation }, 'conversations');
  let after = 0;
  while (after < conversation.turn) {
    // Never past the head that was read: turns landing meanwhile belong to a later export.
    const turns = await store.listTurns(tenantId, id, after, Math.min(PAGE, conversation.turn - after));
    if (turns.length === 0) {
      throw new AppError(
        'state_corrupt',
        `Conversation ${id} is at turn ${conversation.turn} but turn ${after + 1} is missing`,
      );
    }
    for (const turn of turns) {
      await emit(
        {
          type: 'turn',
          turn: {
            conversationId: turn.conversationId,
            number: turn.number,
            role: turn.role,
            content: Buffer.from(turn.content).toString('base64'),
            createdAt: turn.createdAt,
            prevHash: turn.prevHash,
            hash: turn.hash,
          },
        },
        'turns',
      );
      after = turn.number;
    }
  }
  for (const participant of await store.listParticipants(tenantId, id)) {
    await emit({ type: 'participant', conversationId: id, participant }, 'participants');
  }
  const state = await store.getContextState(tenantId, id);
  if (state) {
    await emit(
      {
        type: 'context_state',
        conversationId: id,
        state: {
          version: state.version,
          throughTurn: state.throughTurn,
          state: Buffer.from(state.state).toString('base64'),
          updatedAt: state.updatedAt,
        },
      },
      'contextStates',
    );
  }
  let afterId: string | null = null;
  for (;;) {
    const events = await store.listStreamEvents(tenantId, id, afterId, PAGE);
    for (const event of events) {
      const data = Buffer.from(event.data).toString('base64');
      await emit(
        { type: 'stream_event', conversationId: id, event: { id: event.id, event: event.event, data } },
        'streamEvents',
      );
    }
    if (events.length < PAGE) break;
    afterId = events.at(-1)!.id;
  }
}

// Checkpoints first (read before the events, so none is past the last event
// exported), then the events in seq order: an importer verifies while it reads.
async function exportChain(store: Store, tenantId: TenantId, emit: Emit): Promise<void> {
  const checkpoints = await store.listAuditCheckpoints(tenantId);
  checkpoints.sort((a, b) => a.seq - b.seq);
  for (const checkpoint of checkpoints) await emit({ type: 'audit_checkpoint', checkpoint }, 'auditCheckpoints');
  let afterSeq = 0;
  for (;;) {
    const events = await store.listAuditEvents(tenantId, { afterSeq, limit: PAGE });
    for (const event of events) await emit({ type: 'audit_event', event }, 'auditEvents');
    if (events.length < PAGE) break;
    afterSeq = events.at(-1)!.seq;
  }
}
