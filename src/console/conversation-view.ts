import type {
  ContinuumClient,
  Conversation,
  ConversationEvent,
  SyncConnection,
  SyncEvent,
  SyncState,
  Turn,
} from '../client/index.ts';
import type { Alerts } from './alerts.ts';
import { ContextPanel } from './context-panel.ts';
import { titleOf } from './conversation-list.ts';
import { byId, shortTime } from './dom.ts';
import { PresenceLine } from './presence.ts';
import { Transcript } from './transcript.ts';

/** How long "… is typing" stays after the last typing event. */
const TYPING_SHOWN_MS = 4000;
/** This tab tells others it is typing at most this often. */
const TYPING_EVERY_MS = 2000;
/** Context reads are gathered: several turns in a burst cost one read. */
const CONTEXT_DEBOUNCE_MS = 250;

const SYNC_LABEL: Record<SyncState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

/** What the view tells the rest of the app. */
export interface ConversationViewHooks {
  alerts: Alerts;
  /** The conversation moved on (a new turn): refresh its list entry. */
  onChanged(conversation: Conversation): void;
}

/**
 * The open conversation: its transcript (read over HTTP, then kept live
 * through the SDK's WebSocket sync, so turns and replies written in another
 * tab appear here as they happen), the composer (a streamed append: the
 * reply is drawn delta by delta), and the working-context panel, read again
 * after every turn.
 */
export class ConversationView {
  readonly #hooks: ConversationViewHooks;
  readonly #transcript = new Transcript();
  readonly #context = new ContextPanel();
  readonly #title = byId('chat-title');
  readonly #meta = byId('chat-meta');
  readonly #empty = byId('chat-empty');
  readonly #list = byId<HTMLOListElement>('transcript');
  readonly #status = byId('sync-status');
  readonly #typing = byId('typing');
  readonly #presence = new PresenceLine(byId('presence'));
  readonly #form = byId<HTMLFormElement>('composer');
  readonly #message = byId<HTMLTextAreaElement>('message');
  readonly #send = byId<HTMLButtonElement>('send');
  readonly #contextToggle = byId<HTMLButtonElement>('context-toggle');
  #client: ContinuumClient | undefined;
  #conversation: Conversation | undefined;
  #sync: SyncConnection | undefined;
  /** The signed-in subject, as the sync connection's `ready` names it. */
  #subject: string | undefined;
  #sending = false;
  #lastTyping = 0;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #contextTimer: ReturnType<typeof setTimeout> | undefined;
  #contextReading = false;
  #contextAgain = false;

  constructor(hooks: ConversationViewHooks) {
    this.#hooks = hooks;
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#submit();
    });
    this.#message.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter is a new line; an IME composition's Enter is the IME's.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#form.requestSubmit();
      }
    });
    this.#message.addEventListener('input', () => this.#announceTyping());
  }

  /** The open conversation's id, if one is open. */
  get openId(): string | undefined {
    return this.#conversation?.id;
  }

  /** Open a conversation: read its turns, show its context, follow it live. */
  async open(client: ContinuumClient, conversation: Conversation): Promise<void> {
    this.close();
    this.#client = client;
    this.#conversation = conversation;
    this.#showHeader(conversation);
    this.#empty.hidden = true;
    this.#list.hidden = false;
    this.#form.hidden = false;
    this.#contextToggle.hidden = false;
    this.#transcript.reset([]);
    try {
      const turns: Turn[] = [];
      for await (const turn of client.turns.all(conversation.id)) turns.push(turn);
      if (this.#conversation !== conversation) return; // another one was opened meanwhile
      this.#transcript.reset(turns);
      this.#follow(client, conversation);
      this.#refreshContext(0);
    } catch (error) {
      this.#hooks.alerts.show(error);
    }
  }

  /** Stop following the open conversation and show the empty state. */
  close(): void {
    this.#sync?.close();
    this.#sync = undefined;
    this.#subject = undefined;
    this.#conversation = undefined;
    this.#client = undefined;
    clearTimeout(this.#contextTimer);
    clearTimeout(this.#typingTimer);
    this.#typing.textContent = '';
    this.#presence.clear();
    this.#title.textContent = 'No conversation open';
    this.#meta.textContent = '';
    this.#status.hidden = true;
    this.#empty.hidden = false;
    this.#list.hidden = true;
    this.#form.hidden = true;
    this.#contextToggle.hidden = true;
    this.#transcript.reset([]);
    this.#context.clear();
  }

  /** Put the keyboard in the composer. */
  focusComposer(): void {
    this.#message.focus();
  }

  #showHeader(conversation: Conversation): void {
    this.#title.textContent = titleOf(conversation);
    const status = conversation.status === 'closed' ? ' · closed (read-only)' : '';
    this.#meta.textContent = `Started ${shortTime(conversation.startedAt)}${status}`;
  }

  /** Follow the conversation over the SDK's sync: every event of every tab and node, resumed after drops. */
  #follow(client: ContinuumClient, conversation: Conversation): void {
    this.#setStatus('connecting');
    const sync = client.sync(conversation.id, {
      onEvent: (event) => this.#onEvent(event),
      onStateChange: (state) => this.#setStatus(state),
      onReady: (ready) => {
        if (typeof ready['subject'] === 'string') this.#subject = ready['subject'];
      },
      onSubscribed: ({ present }) => this.#presence.reset(present, this.#subject),
      onError: (error) => this.#hooks.alerts.show(error),
    });
    this.#sync = sync;
    sync.ready().catch((error: unknown) => {
      if (this.#sync === sync) this.#hooks.alerts.show(error);
    });
  }

  #onEvent(event: ConversationEvent | SyncEvent): void {
    if (event.event === 'typing') {
      this.#showTyping(event.data);
      return;
    }
    if (event.event === 'presence') {
      this.#presence.apply(event.data);
      return;
    }
    if (event.event === 'context') {
      this.#refreshContext(CONTEXT_DEBOUNCE_MS);
      return;
    }
    const change = this.#transcript.apply(event);
    if (event.event === 'closed' && this.#conversation) {
      this.#conversation = { ...this.#conversation, status: 'closed' };
      this.#showHeader(this.#conversation);
      this.#hooks.onChanged(this.#conversation);
    }
    if (change === 'turn' || change === 'reply-done' || change === 'reply-failed') {
      if (this.#conversation) {
        this.#conversation = { ...this.#conversation, turn: this.#transcript.lastTurn };
        this.#hooks.onChanged(this.#conversation);
      }
      this.#refreshContext(CONTEXT_DEBOUNCE_MS);
    }
    if (change === 'turn' || change === 'reply-done') this.#typing.textContent = '';
  }

  async #submit(): Promise<void> {
    const client = this.#client;
    const conversation = this.#conversation;
    const content = this.#message.value.trim();
    if (!client || !conversation || content === '' || this.#sending) return;
    this.#hooks.alerts.clear();
    this.#setSending(true);
    this.#message.value = '';
    const reply = client.turns.append(conversation.id, {
      role: 'user',
      content,
      expectedTurn: this.#transcript.lastTurn,
      respond: true,
      stream: true,
      onConflict: 'rebase',
    });
    try {
      for await (const event of reply) {
        if (this.#conversation !== conversation) break; // the user opened another conversation
        this.#onEvent(event);
      }
      if (reply.error) throw reply.error;
    } catch (error) {
      this.#transcript.failPending();
      this.#hooks.alerts.show(error);
      // Nothing was stored: give the text back rather than lose it.
      if (reply.turn === undefined && this.#message.value === '') this.#message.value = content;
    } finally {
      this.#setSending(false);
    }
  }

  #setSending(sending: boolean): void {
    this.#sending = sending;
    this.#send.disabled = sending;
    this.#send.textContent = sending ? 'Replying…' : 'Send';
    this.#form.setAttribute('aria-busy', String(sending));
  }

  #setStatus(state: SyncState): void {
    this.#status.hidden = false;
    this.#status.dataset['state'] = state;
    this.#status.textContent = SYNC_LABEL[state];
    // Who is here is known again only once (re)subscribed.
    if (state !== 'open') this.#presence.clear();
  }

  #announceTyping(): void {
    const now = Date.now();
    if (now - this.#lastTyping < TYPING_EVERY_MS) return;
    this.#lastTyping = now;
    this.#sync?.typing();
  }

  #showTyping(data: unknown): void {
    const subject = (data as { subject?: unknown } | null)?.subject;
    this.#typing.textContent = `${typeof subject === 'string' ? subject : 'Someone'} is typing…`;
    clearTimeout(this.#typingTimer);
    this.#typingTimer = setTimeout(() => {
      this.#typing.textContent = '';
    }, TYPING_SHOWN_MS);
  }

  /** Read the working context again after `delayMs`; reads never overlap, and one arriving mid-read runs after it. */
  #refreshContext(delayMs: number): void {
    clearTimeout(this.#contextTimer);
    this.#contextTimer = setTimeout(() => void this.#readContext(), delayMs);
  }

  async #readContext(): Promise<void> {
    const client = this.#client;
    const conversation = this.#conversation;
    if (!client || !conversation) return;
    if (this.#contextReading) {
      this.#contextAgain = true;
      return;
    }
    this.#contextReading = true;
    try {
      const context = await client.conversations.context(conversation.id);
      if (this.#conversation?.id === conversation.id) this.#context.show(context);
    } catch (error) {
      if (this.#conversation?.id === conversation.id) this.#hooks.alerts.show(error);
    } finally {
      this.#contextReading = false;
      if (this.#contextAgain) {
        this.#contextAgain = false;
        this.#refreshContext(0);
      }
    }
  }
}
