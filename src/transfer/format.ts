/**
 * The export file: NDJSON, one typed record per line, written by
 * `exportTenants` (`continuum export`) and read by `importStream`
 * (`continuum import`). In file order:
 *
 * 1. `continuum-export` — the header: format version, when, the source store
 *    kind, the exported tenant ids, and whether the system chain is included.
 * 2. `secret` — the server's `session-id-secret`. Conversation ids are an HMAC
 *    under it (ADR-002): without it, a client opening a conversation with the
 *    same client key on the target would get a different id. The target must
 *    have no such secret yet, or the same one.
 * 3. `public_key` — the public halves of the source's signing keys, so the
 *    signed audit checkpoints can be verified while importing. Private signing
 *    keys never leave their store.
 * 4. The system chain (`tnt_system`), when every tenant is exported:
 *    `audit_checkpoint` lines, then `audit_event` lines in seq order.
 * 5. Per tenant: `tenant` (with its API keys, hashes only), `data_key` lines
 *    (still wrapped by the source's master key: the target must use the same
 *    master key file, `CONTINUUM_MASTER_KEY` or KMS key to read the content),
 *    then each conversation — `conversation`, its `turn` lines (turn 1 first;
 *    content bytes in base64, still sealed), its `participant` lines (the
 *    subjects other than the owner who take part, oldest first), an optional
 *    `context_state` and its `stream_event` lines — then the tenant's
 *    `audit_checkpoint` lines and its `audit_event` lines in seq order.
 * 6. `end` — counts of every record type, so a truncated file is detected.
 *    A file written before `participant` records existed has no
 *    `participants` count; it reads as 0.
 *
 * Not exported: refresh tokens and signing keys. Holders of refresh tokens
 * sign in again (API key grant) against the target, which signs with its own
 * keys; the source's checkpoints are verified on import and the target signs
 * a fresh checkpoint over each imported chain.
 */
import type { AuditCheckpoint } from '../audit/checkpoint.ts';
import type { AuditEvent } from '../audit/event.ts';
import type { ApiKeyRecord, ConversationRecord, ParticipantRecord, Store, TenantRecord } from '../store/port.ts';

/** The `type` of the header record. */
export const EXPORT_FORMAT = 'continuum-export';
/** The format version this build writes and reads. */
export const EXPORT_VERSION = 1;
/** The server secret conversation ids are derived from (ADR-002). */
export { SESSION_ID_SECRET } from '../conversations/session-id.ts';

export interface HeaderLine {
  type: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  /** ISO 8601 UTC. */
  exportedAt: string;
  source: Store['kind'];
  tenants: string[];
  /** True when the system audit chain (`tnt_system`) follows the secrets. */
  system: boolean;
}

export interface SecretLine {
  type: 'secret';
  name: string;
  value: string;
}

export interface PublicKeyLine {
  type: 'public_key';
  kid: string;
  /** Public JWK (Ed25519). */
  jwk: Record<string, unknown>;
}

export interface TenantLine {
  type: 'tenant';
  tenant: TenantRecord;
  apiKeys: ApiKeyRecord[];
}

export interface DataKeyLine {
  type: 'data_key';
  dataKey: { tenantId: string; version: number; masterKeyId: string; wrapped: string; createdAt: string };
}

export interface ConversationLine {
  type: 'conversation';
  conversation: ConversationRecord;
}

export interface TurnLine {
  type: 'turn';
  turn: {
    conversationId: string;
    number: number;
    role: string;
    /** base64 of the stored (sealed) bytes. */
    content: string;
    createdAt: string;
    prevHash: string;
    hash: string;
  };
}

export interface ParticipantLine {
  type: 'participant';
  conversationId: string;
  participant: ParticipantRecord;
}

export interface ContextStateLine {
  type: 'context_state';
  conversationId: string;
  state: { version: number; throughTurn: number; state: string; updatedAt: string };
}

export interface StreamEventLine {
  type: 'stream_event';
  conversationId: string;
  event: { id: string; event: string; data: string };
}

export interface AuditEventLine {
  type: 'audit_event';
  event: AuditEvent;
}

export interface AuditCheckpointLine {
  type: 'audit_checkpoint';
  checkpoint: AuditCheckpoint;
}

export interface EndLine {
  type: 'end';
  counts: TransferCounts;
}

/** Every record of an export file. */
export type ExportLine =
  | HeaderLine
  | SecretLine
  | PublicKeyLine
  | TenantLine
  | DataKeyLine
  | ConversationLine
  | TurnLine
  | ParticipantLine
  | ContextStateLine
  | StreamEventLine
  | AuditEventLine
  | AuditCheckpointLine
  | EndLine;

/** How many records of each kind an export wrote, or an import read. */
export interface TransferCounts {
  secrets: number;
  publicKeys: number;
  tenants: number;
  apiKeys: number;
  dataKeys: number;
  conversations: number;
  turns: number;
  participants: number;
  contextStates: number;
  streamEvents: number;
  auditEvents: number;
  auditCheckpoints: number;
}

/** The names of {@link TransferCounts}, in a stable order. */
export const COUNT_NAMES: readonly (keyof TransferCounts)[] = [
  'secrets',
  'publicKeys',
  'tenants',
  'apiKeys',
  'dataKeys',
  'conversations',
  'turns',
  'participants',
  'contextStates',
  'streamEvents',
  'auditEvents',
  'auditCheckpoints',
];

/** All counts at zero. */
export function zeroCounts(): TransferCounts {
  return {
    secrets: 0,
    publicKeys: 0,
    tenants: 0,
    apiKeys: 0,
    dataKeys: 0,
    conversations: 0,
    turns: 0,
    participants: 0,
    contextStates: 0,
    streamEvents: 0,
    auditEvents: 0,
    auditCheckpoints: 0,
  };
}

/** What progress callbacks see: counts so far and how many of the tenants are done. */
export interface TransferProgress {
  counts: Readonly<TransferCounts>;
  tenantsDone: number;
  tenantsTotal: number;
}
