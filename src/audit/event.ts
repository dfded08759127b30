import { asTenantId, type TenantId } from '../core/types.ts';

/** How an audited operation ended: `denied` is an authorization refusal, `failure` anything else that went wrong. */
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Every outcome, in a stable order (for validation and reports). */
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

/** Who did it. `subject` is the end user (patient or clinician) a token was issued for. */
export interface AuditActor {
  kind: 'operator' | 'subject' | 'system' | 'anonymous';
  tenantId?: string;
  subject?: string;
  tokenId?: string;
  ip?: string;
}

/** What it was done to. `id` is an identifier, never content. */
export interface AuditResource {
  type:
    | 'tenant'
    | 'api_key'
    | 'token'
    | 'conversation'
    | 'turn'
    | 'context'
    | 'audit'
    | 'flag'
    | 'key'
    | 'participant'
    | 'export';
  id?: string;
}

/** What a caller supplies; never message text or other PHI in `detail`. */
export interface AuditEventInput {
  /** One of {@link AUDIT_ACTIONS}, e.g. `'conversation.create'`, `'turn.append'`, `'token.refresh'`. */
  action: string;
  actor: AuditActor;
  resource: AuditResource;
  outcome: AuditOutcome;
  /** Small scalar facts (counts, codes, turn numbers). Strings are capped at {@link MAX_DETAIL_STRING} chars. */
  detail?: Record<string, string | number | boolean>;
}

/** A sealed link of a tenant's audit chain, as stored. */
export interface AuditEvent extends AuditEventInput {
  tenantId: string;
  /** 1 for the first event of the tenant's chain, then +1 with no gaps. */
  seq: number;
  /** ISO 8601 UTC (`Date.prototype.toISOString`); stored verbatim, since it is hashed. */
  at: string;
  /** `hash` of the previous event, or {@link GENESIS_HASH} for seq 1. */
  prevHash: string;
  /** Lowercase hex SHA-256 of `prevHash + canonicalJson(event without hash)`. */
  hash: string;
}

/** The `prevHash` of every chain's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain for events with no tenant (e.g. a failed auth with an unknown key). */
export const SYSTEM_TENANT: TenantId = asTenantId('tnt_system');

/**
 * Longest string allowed in `detail`. Detail carries codes and counts; the cap
 * keeps message text from being logged there by mistake.
 */
export const MAX_DETAIL_STRING = 256;

/** Every action the server audits, with what it records. */
export const AUDIT_ACTIONS = [
  { action: 'tenant.create', description: 'An operator created a tenant.' },
  { action: 'api_key.create', description: 'An operator created an API key for a tenant.' },
  { action: 'token.issue', description: 'An access and refresh token pair was issued for a subject.' },
  { action: 'token.refresh', description: 'A refresh token was exchanged for a new token pair.' },
  { action: 'token.revoke', description: 'A token or refresh family was revoked.' },
  { action: 'token.refresh_reused', description: 'A spent refresh token was presented again; its family was revoked.' },
  { action: 'auth.failure', description: 'Credentials (API key, admin token or access token) were rejected.' },
  { action: 'conversation.create', description: 'A conversation was created.' },
  { action: 'conversation.read', description: 'A conversation and its turns were read.' },
  { action: 'conversation.list', description: 'Conversations were listed.' },
  { action: 'conversation.close', description: 'A conversation was closed and became read-only.' },
  { action: 'turn.append', description: 'A turn was appended to a conversation.' },
  { action: 'turn.read', description: 'Turns of a conversation were read or streamed.' },
  { action: 'context.read', description: 'The working context (summary, profile) of a conversation was read.' },
  { action: 'search.read', description: 'Conversation content was searched.' },
  { action: 'participant.add', description: 'A participant joined a conversation.' },
  { action: 'participant.remove', description: 'A participant left or was removed from a conversation.' },
  { action: 'profile.update', description: 'The extracted profile of a subject was updated.' },
  { action: 'flag.update', description: 'A feature flag (server-wide, audited on the system chain) was changed.' },
  { action: 'audit.read', description: 'Audit events were read.' },
  { action: 'audit.verify', description: 'The audit chain was verified.' },
  { action: 'audit.export', description: 'Audit events were exported (e.g. as FHIR AuditEvent).' },
  { action: 'export.create', description: 'Conversation data was exported.' },
  { action: 'import.create', description: 'Conversation data was imported.' },
  { action: 'key.rotate', description: 'A tenant data-encryption key was rotated.' },
  { action: 'signing_key.rotate', description: 'A token or checkpoint signing key was rotated.' },
] as const;

/** The name of an audited action. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number]['action'];

const DESCRIPTIONS: ReadonlyMap<string, string> = new Map(AUDIT_ACTIONS.map((a) => [a.action, a.description]));

/** True when `action` is one of {@link AUDIT_ACTIONS}. */
export function isAuditAction(action: string): action is AuditAction {
  return DESCRIPTIONS.has(action);
}

/** The one-line description of a known action, or `undefined`. */
export function describeAuditAction(action: string): string | undefined {
  return DESCRIPTIONS.get(action);
}
