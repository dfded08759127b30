import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent } from '../../../audit/event.ts';
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
import { key, pad, partition } from './keys.ts';
import type { Item } from './requests.ts';

// Items store absent values as absent attributes; records carry them as null.
const str = (item: Item, attr: string): string => item[attr] as string;
const num = (item: Item, attr: string): number => item[attr] as number;
const nullable = <T>(item: Item, attr: string): T | null => (item[attr] === undefined ? null : (item[attr] as T));
/** Binary attributes come back as Uint8Array; records carry Buffers (a view, no copy). */
export const toBuffer = (value: unknown): Buffer => {
  const view = value as Uint8Array;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
};

/** Attributes of a conversation item that make up its record. */
export const CONVERSATION_ATTRS = [
  'id',
  'tenantId',
  'subject',
  'title',
  'metadata',
  'clientKey',
  'startedAt',
  'createdAt',
  'genesisHash',
  'turn',
  'headHash',
  'status',
  'closedAt',
] as const;

export function conversationItem(record: ConversationRecord, seq: number): Item {
  return {
    ...key.conversation(record.tenantId, record.id),
    id: record.id,
    tenantId: record.tenantId,
    subject: record.subject,
    title: record.title ?? undefined,
    // JSON text keeps the metadata exactly as given (DynamoDB maps would reorder and retype it).
    metadata: record.metadata === null ? undefined : JSON.stringify(record.metadata),
    clientKey: record.clientKey,
    startedAt: record.startedAt,
    createdAt: record.createdAt,
    genesisHash: record.genesisHash,
    turn: record.turn,
    headHash: record.headHash,
    status: record.status,
    closedAt: record.closedAt ?? undefined,
    seq,
  };
}

export const toConversation = (item: Item): ConversationRecord => ({
  id: asConversationId(str(item, 'id')),
  tenantId: asTenantId(str(item, 'tenantId')),
  subject: str(item, 'subject'),
  title: nullable<string>(item, 'title'),
  metadata: item.metadata === undefined ? null : (JSON.parse(str(item, 'metadata')) as Record<string, unknown>),
  clientKey: str(item, 'clientKey'),
  startedAt: str(item, 'startedAt'),
  createdAt: str(item, 'createdAt'),
  genesisHash: str(item, 'genesisHash'),
  turn: num(item, 'turn'),
  headHash: str(item, 'headHash'),
  status: str(item, 'status') as ConversationStatus,
  closedAt: nullable<string>(item, 'closedAt'),
});

export const TURN_ATTRS = ['conversationId', 'number', 'role', 'content', 'createdAt', 'prevHash', 'hash'] as const;

export function turnItem(tenantId: string, turn: TurnRecord): Item {
  return {
    ...key.turn(tenantId, turn.conversationId, turn.number),
    conversationId: turn.conversationId,
    number: turn.number,
    role: turn.role,
    content: turn.content,
    createdAt: turn.createdAt,
    prevHash: turn.prevHash,
    hash: turn.hash,
  };
}

export const toTurn = (item: Item): TurnRecord => ({
  conversationId: asConversationId(str(item, 'conversationId')),
  number: num(item, 'number'),
  role: str(item, 'role') as Role,
  content: toBuffer(item.content),
  createdAt: str(item, 'createdAt'),
  prevHash: str(item, 'prevHash'),
  hash: str(item, 'hash'),
});

export const TENANT_ATTRS = ['id', 'name', 'createdAt'] as const;

export const tenantItem = (tenant: TenantRecord): Item => ({
  ...key.tenant(tenant.id),
  id: tenant.id,
  name: tenant.name,
  createdAt: tenant.createdAt,
});

export const toTenant = (item: Item): TenantRecord => ({
  id: asTenantId(str(item, 'id')),
  name: str(item, 'name'),
  createdAt: str(item, 'createdAt'),
});

export const API_KEY_ATTRS = ['id', 'tenantId', 'hash', 'createdAt', 'revokedAt'] as const;

export const apiKeyItem = (apiKey: ApiKeyRecord): Item => ({
  ...key.apiKey(apiKey.tenantId, apiKey.hash),
  id: apiKey.id,
  tenantId: apiKey.tenantId,
  hash: apiKey.hash,
  createdAt: apiKey.createdAt,
  revokedAt: apiKey.revokedAt ?? undefined,
});

export const toApiKey = (item: Item): ApiKeyRecord => ({
  id: str(item, 'id'),
  tenantId: asTenantId(str(item, 'tenantId')),
  hash: str(item, 'hash'),
  createdAt: str(item, 'createdAt'),
  revokedAt: nullable<string>(item, 'revokedAt'),
});

export const FAMILY_ATTRS = [
  'id',
  'tenantId',
  'subject',
  'scope',
  'createdAtMs',
  'expiresAtMs',
  'revokedAtMs',
  'revokedReason',
] as const;

export const familyItem = (family: RefreshFamilyRecord): Item => ({
  ...key.family(family.tenantId, family.id),
  id: family.id,
  tenantId: family.tenantId,
  subject: family.subject,
  scope: family.scope,
  createdAtMs: family.createdAtMs,
  expiresAtMs: family.expiresAtMs,
  revokedAtMs: family.revokedAtMs ?? undefined,
  revokedReason: family.revokedReason ?? undefined,
});

export const toFamily = (item: Item): RefreshFamilyRecord => ({
  id: str(item, 'id'),
  tenantId: asTenantId(str(item, 'tenantId')),
  subject: str(item, 'subject'),
  scope: str(item, 'scope') as Scope,
  createdAtMs: num(item, 'createdAtMs'),
  expiresAtMs: num(item, 'expiresAtMs'),
  revokedAtMs: nullable<number>(item, 'revokedAtMs'),
  revokedReason: nullable<string>(item, 'revokedReason'),
});

export const SIGNING_KEY_ATTRS = ['kid', 'alg', 'privateJwk', 'publicJwk', 'createdAt', 'retiredAt'] as const;

export const signingKeyItem = (record: SigningKeyRecord): Item => ({
  ...key.signingKey(record.kid),
  kid: record.kid,
  alg: record.alg,
  privateJwk: record.privateJwk,
  publicJwk: record.publicJwk,
  createdAt: record.createdAt,
  retiredAt: record.retiredAt ?? undefined,
});

export const toSigningKey = (item: Item): SigningKeyRecord => ({
  kid: str(item, 'kid'),
  alg: 'EdDSA',
  privateJwk: str(item, 'privateJwk'),
  publicJwk: str(item, 'publicJwk'),
  createdAt: str(item, 'createdAt'),
  retiredAt: nullable<string>(item, 'retiredAt'),
});

export const DATA_KEY_ATTRS = ['tenantId', 'version', 'masterKeyId', 'wrapped', 'createdAt'] as const;

export const dataKeyItem = (record: DataKeyRecord): Item => ({
  ...key.dataKey(record.tenantId, record.version),
  tenantId: record.tenantId,
  version: record.version,
  masterKeyId: record.masterKeyId,
  wrapped: record.wrapped,
  createdAt: record.createdAt,
});

export const toDataKey = (item: Item): DataKeyRecord => ({
  tenantId: str(item, 'tenantId'),
  version: num(item, 'version'),
  masterKeyId: str(item, 'masterKeyId'),
  wrapped: toBuffer(item.wrapped),
  createdAt: str(item, 'createdAt'),
});

export const AUDIT_ATTRS = [
  'tenantId',
  'seq',
  'at',
  'action',
  'actor',
  'resourceType',
  'resourceId',
  'outcome',
  'detail',
  'prevHash',
  'hash',
] as const;

/** An audit event item; events with a resource id also carry the GSI1 keys that list them by resource. */
export function auditItem(event: AuditEvent): Item {
  const resourceId = event.resource.id;
  return {
    ...key.auditEvent(event.tenantId, event.seq),
    ...(resourceId === undefined
      ? {}
      : { GSI1PK: partition.auditResource(event.tenantId, resourceId), GSI1SK: pad(event.seq) }),
    tenantId: event.tenantId,
    seq: event.seq,
    at: event.at,
    action: event.action,
    actor: JSON.stringify(event.actor),
    resourceType: event.resource.type,
    resourceId,
    outcome: event.outcome,
    detail: event.detail === undefined ? undefined : JSON.stringify(event.detail),
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

export function toAuditEvent(item: Item): AuditEvent {
  return {
    tenantId: str(item, 'tenantId'),
    seq: num(item, 'seq'),
    at: str(item, 'at'),
    action: str(item, 'action'),
    actor: JSON.parse(str(item, 'actor')) as AuditEvent['actor'],
    resource: {
      type: str(item, 'resourceType') as AuditEvent['resource']['type'],
      ...(item.resourceId === undefined ? {} : { id: str(item, 'resourceId') }),
    },
    outcome: str(item, 'outcome') as AuditEvent['outcome'],
    ...(item.detail === undefined
      ? {}
      : { detail: JSON.parse(str(item, 'detail')) as Record<string, string | number | boolean> }),
    prevHash: str(item, 'prevHash'),
    hash: str(item, 'hash'),
  };
}

export const CHECKPOINT_ATTRS = ['tenantId', 'seq', 'hash', 'at', 'kid', 'signature'] as const;

export const checkpointItem = (cp: AuditCheckpoint): Item => ({
  ...key.checkpoint(cp.tenantId, cp.seq),
  tenantId: cp.tenantId,
  seq: cp.seq,
  hash: cp.hash,
  at: cp.at,
  kid: cp.kid,
  signature: cp.signature,
});

export const toCheckpoint = (item: Item): AuditCheckpoint => ({
  tenantId: str(item, 'tenantId'),
  seq: num(item, 'seq'),
  hash: str(item, 'hash'),
  at: str(item, 'at'),
  kid: str(item, 'kid'),
  signature: str(item, 'signature'),
});

/** Opaque page cursor: the last listed conversation's sequence number. */
export const encodeCursor = (seq: number): string => Buffer.from(`s:${seq}`).toString('base64url');

export function decodeCursor(cursor: string): number | null {
  const match = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}
