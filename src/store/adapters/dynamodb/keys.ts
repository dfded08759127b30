/**
 * The single-table key design (docs/DYNAMODB.md has the full table). Every
 * item has a string partition key `PK` and sort key `SK`; tenant data lives
 * under partition keys that start with `T#<tenant>#`, so a key built for one
 * tenant can never address another tenant's item.
 */

/** Width of zero-padded numbers in sort keys: any safe integer fits, and text order is numeric order. */
const WIDTH = 16;

/** `n` zero-padded so that sort keys order numerically. */
export const pad = (n: number): string => String(n).padStart(WIDTH, '0');

/** The largest padded number, as an inclusive upper bound of key ranges. */
export const PAD_MAX = '9'.repeat(WIDTH);

/** The global secondary index over audit events by resource (sparse: only events with a resource id). */
export const GSI1 = 'GSI1';

/** The primary key of one item. */
export interface ItemKey {
  PK: string;
  SK: string;
}

const conversationPk = (tenantId: string, id: string): string => `T#${tenantId}#C#${id}`;

/** Partition keys that hold lists (queried, never addressed item by item). */
export const partition = {
  signingKeys: 'SIGNING_KEYS',
  flags: 'FLAGS',
  tenants: 'TENANTS',
  dataKeyTenants: 'DATA_KEY_TENANTS',
  auditTenants: 'AUDIT_TENANTS',
  apiKeys: (tenantId: string): string => `T#${tenantId}#API_KEYS`,
  dataKeys: (tenantId: string): string => `T#${tenantId}#DATA_KEYS`,
  conversation: conversationPk,
  stream: (tenantId: string, id: string): string => `${conversationPk(tenantId, id)}#STREAM`,
  conversations: (tenantId: string): string => `T#${tenantId}#CONVERSATIONS`,
  subject: (tenantId: string, subject: string): string => `T#${tenantId}#SUBJECT#${subject}`,
  audit: (tenantId: string): string => `T#${tenantId}#AUDIT`,
  auditResource: (tenantId: string, resourceId: string): string => `T#${tenantId}#AUDIT_RESOURCE#${resourceId}`,
  checkpoints: (tenantId: string): string => `T#${tenantId}#AUDIT_CHECKPOINTS`,
} as const;

/** Sort-key prefixes inside a conversation's partition. */
export const TURN_PREFIX = 'TURN#';
export const PARTICIPANT_PREFIX = 'PARTICIPANT#';

/** The key of every kind of item. */
export const key = {
  schema: (): ItemKey => ({ PK: 'META', SK: 'SCHEMA' }),
  /** Rewritten by every readiness probe. */
  readinessProbe: (): ItemKey => ({ PK: 'META', SK: 'READINESS_PROBE' }),
  secret: (name: string): ItemKey => ({ PK: 'META', SK: `SECRET#${name}` }),
  signingKey: (kid: string): ItemKey => ({ PK: partition.signingKeys, SK: kid }),
  flag: (name: string): ItemKey => ({ PK: partition.flags, SK: name }),

  tenant: (tenantId: string): ItemKey => ({ PK: partition.tenants, SK: tenantId }),
  tenantName: (name: string): ItemKey => ({ PK: `TENANT_NAME#${name}`, SK: 'TENANT_NAME' }),
  apiKey: (tenantId: string, hash: string): ItemKey => ({ PK: partition.apiKeys(tenantId), SK: hash }),
  /** Claims a key hash across tenants, so one key can never open two tenants. */
  apiKeyHash: (hash: string): ItemKey => ({ PK: `API_KEY#${hash}`, SK: 'API_KEY' }),

  dataKey: (tenantId: string, version: number): ItemKey => ({ PK: partition.dataKeys(tenantId), SK: pad(version) }),
  dataKeyTenant: (tenantId: string): ItemKey => ({ PK: partition.dataKeyTenants, SK: tenantId }),

  family: (tenantId: string, familyId: string): ItemKey => ({ PK: `T#${tenantId}#RF#${familyId}`, SK: 'FAMILY' }),
  refreshToken: (tenantId: string, hash: string): ItemKey => ({ PK: `T#${tenantId}#RT#${hash}`, SK: 'TOKEN' }),

  /** Conversation ids are global: the claim names the tenant that owns one. */
  conversationClaim: (id: string): ItemKey => ({ PK: `C#${id}`, SK: 'CLAIM' }),
  conversation: (tenantId: string, id: string): ItemKey => ({ PK: conversationPk(tenantId, id), SK: 'CONVERSATION' }),
  turn: (tenantId: string, id: string, number: number): ItemKey => ({
    PK: conversationPk(tenantId, id),
    SK: `${TURN_PREFIX}${pad(number)}`,
  }),
  idempotency: (tenantId: string, id: string, idempotencyKey: string): ItemKey => ({
    PK: conversationPk(tenantId, id),
    SK: `IDEMPOTENCY#${idempotencyKey}`,
  }),
  context: (tenantId: string, id: string): ItemKey => ({ PK: conversationPk(tenantId, id), SK: 'CONTEXT' }),
  participant: (tenantId: string, id: string, subject: string): ItemKey => ({
    PK: conversationPk(tenantId, id),
    SK: `${PARTICIPANT_PREFIX}${subject}`,
  }),
  streamEvent: (tenantId: string, id: string, eventId: string): ItemKey => ({
    PK: partition.stream(tenantId, id),
    SK: eventId,
  }),
  /** The tenant's conversation counter: list order is creation order. */
  conversationSeq: (tenantId: string): ItemKey => ({ PK: `T#${tenantId}#CONVERSATION_SEQ`, SK: 'SEQ' }),
  conversationIndex: (tenantId: string, seq: number): ItemKey => ({
    PK: partition.conversations(tenantId),
    SK: pad(seq),
  }),
  subjectIndex: (tenantId: string, subject: string, seq: number): ItemKey => ({
    PK: partition.subject(tenantId, subject),
    SK: pad(seq),
  }),

  auditEvent: (tenantId: string, seq: number): ItemKey => ({ PK: partition.audit(tenantId), SK: pad(seq) }),
  auditHead: (tenantId: string): ItemKey => ({ PK: `T#${tenantId}#AUDIT_HEAD`, SK: 'HEAD' }),
  auditTenant: (tenantId: string): ItemKey => ({ PK: partition.auditTenants, SK: tenantId }),
  checkpoint: (tenantId: string, seq: number): ItemKey => ({ PK: partition.checkpoints(tenantId), SK: pad(seq) }),
} as const;
