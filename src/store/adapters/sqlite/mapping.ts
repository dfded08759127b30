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

export const toTenant = (row: { id: string; name: string; created_at: string }): TenantRecord => ({
  id: asTenantId(row.id),
  name: row.name,
  createdAt: row.created_at,
});

export const toApiKey = (row: {
  tenant_id: string;
  id: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}): ApiKeyRecord => ({
  id: row.id,
  tenantId: asTenantId(row.tenant_id),
  hash: row.hash,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export const toSigningKey = (row: {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}): SigningKeyRecord => ({
  kid: row.kid,
  alg: 'EdDSA',
  privateJwk: row.private_jwk,
  publicJwk: row.public_jwk,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
});

export const toDataKey = (row: {
  tenant_id: string;
  version: number;
  master_key_id: string;
  wrapped: Buffer;
  created_at: string;
}): DataKeyRecord => ({
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
