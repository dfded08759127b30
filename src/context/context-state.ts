import type { TenantCipher } from '../crypto/data-keys.ts';
import type { ConversationRecord } from '../store/port.ts';
import type { Profile } from './profile/types.ts';
import type { RollingSummary } from './summarizer.ts';

/** What a conversation's working context keeps between turns (sealed at rest). */
export interface ContextState {
  profile: Profile;
  summary: RollingSummary | null;
  /** The last turn the profile has taken in. */
  throughTurn: number;
  /** The last few turns, so an answer is read against its question ("Any allergies?" "No."). */
  tail?: { number: number; role: string; text: string }[];
}

/** Seal and open context state, bound to its tenant and conversation like turns are (ADR-008). */
export function sealContextState(cipher: TenantCipher, c: ConversationRecord, state: ContextState): Uint8Array {
  return cipher.sealSync({ tenantId: c.tenantId, conversationId: c.id, field: 'context' }, JSON.stringify(state));
}

export function openContextState(cipher: TenantCipher, c: ConversationRecord, sealed: Uint8Array): ContextState {
  const text = cipher.openSync({ tenantId: c.tenantId, conversationId: c.id, field: 'context' }, Buffer.from(sealed));
  return JSON.parse(text) as ContextState;
}
