import type { TenantCipher } from '../crypto/data-keys.ts';
import type { ConversationRecord } from '../store/port.ts';
import type { ConversationView } from './views.ts';

/**
 * Seals and opens a conversation's own fields (title, metadata). Their
 * ciphertexts are bound to the conversation, like turns.
 */
export class ConversationFields {
  readonly #cipher: TenantCipher;

  constructor(cipher: TenantCipher) {
    this.#cipher = cipher;
  }

  /** Needs `cipher.ensureLoaded(tenantId)`. */
  seal(tenantId: string, conversationId: string, field: 'title' | 'metadata', value: string): string {
    return this.#cipher.sealSync({ tenantId, conversationId, field }, value).toString('base64');
  }

  /** The API view of a stored conversation. Needs `cipher.ensureLoaded(c.tenantId)`. */
  view(c: ConversationRecord): ConversationView {
    const open = (field: string, sealed: string) =>
      this.#cipher.openSync({ tenantId: c.tenantId, conversationId: c.id, field }, Buffer.from(sealed, 'base64'));
    const sealedMetadata = c.metadata?.['sealed'];
    return {
      id: c.id,
      tenantId: c.tenantId,
      subject: c.subject,
      title: c.title === null ? null : open('title', c.title),
      metadata:
        typeof sealedMetadata === 'string'
          ? (JSON.parse(open('metadata', sealedMetadata)) as Record<string, unknown>)
          : null,
      startedAt: c.startedAt,
      createdAt: c.createdAt,
      turn: c.turn,
      status: c.status,
      closedAt: c.closedAt,
    };
  }
}
