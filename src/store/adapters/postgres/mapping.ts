import { asConversationId, asTenantId, type Role, type Scope } from '../../../core/types.ts';
import type { DataKeyRecord } from '../../../crypto/data-keys.ts';
import type {
  ApiKeyRecord,
  ConversationRecord,
  ConversationStatus,
  RefreshFamilyRecord,
  SigningKeyRecord,
  TenantRecord,
  TurnRecord,
} from '../../port.ts';

/** Column lists, so every query names what it reads (and rows map one way). */
export const CONVERSATION_COLUMNS =
  'seq, id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, turn, head_hash, status, closed_at';
export const TURN_COLUMNS = 'conversation_id, number, role, content, created_at, prev_hash, hash';
export const FAMILY_COLUMNS =
  'tenant_id, id, subject, scope, created_at_ms, expires_at_ms, revoked_at_ms, revoked_reason';
export const TENANT_COLUMNS = 'id, name, created_at';
export const API_KEY_COLUMNS = 'tenant_id, id, hash, created_at, revoked_at';
export const SIGNING_KEY_COLUMNS = 'kid, alg, private_jwk, public_jwk, created_at, retired_at';
export const DATA_KEY_COLUMNS = 'tenant_id, version, master_key_id, wrapped, created_at';

export interface ConversationRow {
  seq: number;
  id: string;
  tenant_id: string;
  subject: string;
  title: string | null;
  metadata: string | null;
  client_key: string;
  started_at: string;
  created_at: string;
  genesis_hash: string;
  turn: number;
  head_hash: string;
  status: string;
  closed_at: string | null;
}

export interface TurnRow {
  conversation_id: string;
  number: number;
  role: string;
  content: Buffer;
  created_at: string;
  prev_hash: string;
  hash: string;
}

export interface FamilyRow {
  tenant_id: string;
  id: string;
  subject: string;
  scope: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
  revoked_reason: string | null;
}

export interface TenantRow {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiKeyRow {
  tenant_id: string;
  id: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface DataKeyRow {
  tenant_id: string;
  version: number;
  master_key_id: string;
  wrapped: Buffer;
  created_at: string;
}

export const toConversation = (row: ConversationRow): ConversationRecord => ({
  id: asConversationId(row.id),
  tenantId: asTenantId(row.tenant_id),
  subject: row.subject,
  title: row.title,
  metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
  clientKey: row.client_key,
  startedAt: row.started_at,
  createdAt: row.created_at,
  genesisHash: row.genesis_hash,
  turn: row.turn,
  headHash: row.head_hash,
  status: row.status as ConversationStatus,
  closedAt: row.closed_at,
});

export const toTurn = (row: TurnRow): TurnRecord => ({
  conversationId: asConversationId(row.conversation_id),
  number: row.number,
  role: row.role as Role,
  content: row.content,
  createdAt: row.created_at,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export const toFamily = (row: FamilyRow): RefreshFamilyRecord => ({
  id: row.id,
  tenantId: asTenantId(row.tenant_id),
  subject: row.subject,
  scope: row.scope as Scope,
  createdAtMs: row.created_at_ms,
  expiresAtMs: row.expires_at_ms,
  revokedAtMs: row.revoked_at_ms,
  revokedReason: row.revoked_reason,
});

export const toTenant = (row: TenantRow): TenantRecord => ({
  id: asTenantId(row.id),
  name: row.name,
  createdAt: row.created_at,
});

export const toApiKey = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  tenantId: asTenantId(row.tenant_id),
  hash: row.hash,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export const toSigningKey = (row: SigningKeyRow): SigningKeyRecord => ({
  kid: row.kid,
  alg: 'EdDSA',
  privateJwk: row.private_jwk,
  publicJwk: row.public_jwk,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
});

export const toDataKey = (row: DataKeyRow): DataKeyRecord => ({
  tenantId: row.tenant_id,
  version: row.version,
  masterKeyId: row.master_key_id,
  wrapped: row.wrapped,
  createdAt: row.created_at,
});

/** Opaque page cursor: the last row's sequence number. */
export const encodeCursor = (seq: number): string => Buffer.from(`s:${seq}`).toString('base64url');

export function decodeCursor(cursor: string): number | null {
  const match = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}
