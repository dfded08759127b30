import type { ContinuumClient, Conversation } from '../client/index.ts';
import { byId, el, shortTime } from './dom.ts';

/** How many conversations one page of the list holds. */
const PAGE_SIZE = 20;

/**
 * The conversation list: newest first, a page at a time ("Load more"
 * follows the cursor), each entry a button that opens it.
 */
export class ConversationList {
  readonly #list = byId<HTMLUListElement>('conversation-list');
  readonly #empty = byId('list-empty');
  readonly #more = byId<HTMLButtonElement>('load-more');
  readonly #items = new Map<string, { conversation: Conversation; button: HTMLButtonElement }>();
  #cursor: string | null = null;
  #selected: string | undefined;
  #client: ContinuumClient | undefined;
  readonly #onOpen: (conversation: Conversation) => void;
  readonly #onError: (error: unknown) => void;

  /**
   * @param onOpen called with the conversation the user picked.
   * @param onError called when a page cannot be read.
   */
  constructor(onOpen: (conversation: Conversation) => void, onError: (error: unknown) => void) {
    this.#onOpen = onOpen;
    this.#onError = onError;
    this.#more.addEventListener('click', () => void this.#loadPage());
  }

  /** Show the first page for this client (a fresh sign-in). */
  async reset(client: ContinuumClient): Promise<void> {
    this.#client = client;
    this.clear();
    await this.#loadPage();
  }

  /** Forget everything shown (sign out). */
  clear(): void {
    this.#items.clear();
    this.#list.replaceChildren();
    this.#cursor = null;
    this.#selected = undefined;
    this.#more.hidden = true;
    this.#empty.hidden = true;
  }

  /** Put a conversation at the top (just created), or refresh its entry. */
  upsert(conversation: Conversation, atTop = false): void {
    const known = this.#items.get(conversation.id);
    if (known) {
      known.conversation = conversation;
      this.#fill(known.button, conversation);
      return;
    }
    const button = el('button', { type: 'button', 'data-id': conversation.id });
    this.#fill(button, conversation);
    button.addEventListener('click', () =>
      this.#onOpen(this.#items.get(conversation.id)?.conversation ?? conversation),
    );
    this.#items.set(conversation.id, { conversation, button });
    const item = el('li', {}, button);
    if (atTop) this.#list.prepend(item);
    else this.#list.append(item);
    this.#empty.hidden = true;
    this.#markSelected();
  }

  /** Mark the open conversation (`aria-current`). */
  select(id: string | undefined): void {
    this.#selected = id;
    this.#markSelected();
  }

  /** The entry's button, to give focus back to it. */
  buttonOf(id: string): HTMLButtonElement | undefined {
    return this.#items.get(id)?.button;
  }

  async #loadPage(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#more.disabled = true;
    try {
      const page = await client.conversations.list({
        limit: PAGE_SIZE,
        ...(this.#cursor === null ? {} : { cursor: this.#cursor }),
      });
      if (client !== this.#client) return; // signed out meanwhile
      for (const conversation of page.items) this.upsert(conversation);
      this.#cursor = page.nextCursor;
      this.#more.hidden = page.nextCursor === null;
      this.#empty.hidden = this.#items.size > 0;
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#more.disabled = false;
    }
  }

  #fill(button: HTMLButtonElement, conversation: Conversation): void {
    const turns = conversation.turn === 1 ? '1 turn' : `${conversation.turn} turns`;
    const closed = conversation.status === 'closed' ? ' · closed' : '';
    button.replaceChildren(
      el('span', { class: 'conversation-list__title' }, titleOf(conversation)),
      el('span', { class: 'conversation-list__meta' }, `${shortTime(conversation.createdAt)} · ${turns}${closed}`),
    );
  }

  #markSelected(): void {
    for (const [id, { button }] of this.#items) {
      if (id === this.#selected) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  }
}

/** A conversation's display title: its own, or when it started. */
export function titleOf(conversation: Conversation): string {
  return conversation.title ?? `Conversation of ${shortTime(conversation.startedAt)}`;
}
