import type { Principal } from '../auth/principal.ts';
import type { AuditActor, AuditEventInput, AuditOutcome } from './event.ts';

/** Builders for the audit events the core writes, so every caller words them the same way. */

export const systemActor: AuditActor = { kind: 'system' };

export function operatorActor(ip?: string): AuditActor {
  return { kind: 'operator', ...(ip === undefined ? {} : { ip }) };
}

export function subjectActor(principal: Pick<Principal, 'tenantId' | 'subject' | 'tokenId' | 'ip'>): AuditActor {
  return {
    kind: 'subject',
    tenantId: principal.tenantId,
    subject: principal.subject,
    tokenId: principal.tokenId,
    ...(principal.ip === undefined ? {} : { ip: principal.ip }),
  };
}

export function conversationEvent(
  action: string,
  actor: AuditActor,
  conversationId: string,
  outcome: AuditOutcome,
  detail?: Record<string, string | number | boolean>,
): AuditEventInput {
  return {
    action,
    actor,
    resource: { type: 'conversation', id: conversationId },
    outcome,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** A tenant data key moved under another master key (`continuum keys rotate`). */
export function dataKeyRewrapped(version: number, fromMasterKey: string, toMasterKey: string): AuditEventInput {
  return {
    action: 'key.rotate',
    actor: systemActor,
    resource: { type: 'key', id: `data-key-v${version}` },
    outcome: 'success',
    detail: { from: fromMasterKey.slice(0, 200), to: toMasterKey.slice(0, 200) },
  };
}
