import type { ConversationEvent, ProblemData, Role, SyncEvent, Turn } from '../client/index.ts';
import { byId, el } from './dom.ts';

/** What applying an event changed, for the caller to react to (refresh the context, re-enable the composer). */
export type TranscriptChange = 'turn' | 'delta' | 'reply-done' | 'reply-failed' | 'notice';

const WHO: Record<Role, string> = { user: 'You', clinician: 'Clinician', assistant: 'Assistant', system: 'System' };

interface Pending {
  item: HTMLLIElement;
  text: HTMLElement;
}

/**
 * The transcript of the open conversation. Events reach it from two
 * sources at once — this tab's streamed reply and the WebSocket sync, which
 * carries the same stored events with the same ids — so every event is
 * applied once (by id), and turns are placed by number whatever the order.
 *
 * The sync replays the conversation's event log from its start, after the
 * turns were read over HTTP; deltas of replies that are long finished are
 * recognised (their turn is behind the last turn read) and skipped, so only
 * a reply still being written is drawn as it streams.
 */
export class Transcript {
  readonly #list = byId<HTMLOListElement>('transcript');
  readonly #items = new Map<number, HTMLLIElement>();
  readonly #seen = new Set<string>();
  #pending: Pending | undefined;
  /** The highest turn number known, from any source: the next append follows it. */
  #lastTurn = 0;
  /** The turn of the last `turn`/`done` event the event stream delivered: how far its replay has come. */
  #streamTurn = 0;

  /** The number of the conversation's last turn, as far as this tab knows. */
  get lastTurn(): number {
    return this.#lastTurn;
  }

  /** True while a reply is being streamed into the transcript. */
  get streaming(): boolean {
    return this.#pending !== undefined;
  }

  /** Show these turns (read over HTTP) and nothing else. */
  reset(turns: Turn[]): void {
    this.#items.clear();
    this.#seen.clear();
    this.#pending = undefined;
    this.#lastTurn = 0;
    this.#streamTurn = 0;
    this.#list.replaceChildren();
    this.#list.removeAttribute('aria-busy');
    for (const turn of turns) this.#putTurn(turn);
    this.#scrollToEnd(true);
  }

  /** Apply one event (from the reply stream or from sync); returns what changed, or undefined for nothing. */
  apply(event: ConversationEvent | SyncEvent): TranscriptChange | undefined {
    if (event.id !== null) {
      if (this.#seen.has(event.id)) return undefined;
      this.#seen.add(event.id);
    }
    switch (event.event) {
      case 'turn':
      case 'done': {
        const turn = event.data as Turn;
        this.#streamTurn = Math.max(this.#streamTurn, turn.number);
        const wasPending = this.#pending !== undefined && turn.role === 'assistant';
        if (!this.#putTurn(turn)) return undefined;
        return wasPending ? 'reply-done' : 'turn';
      }
      case 'delta':
        if (!this.#awaitingReply()) return undefined;
        this.#appendDelta((event.data as { text: string }).text);
        return 'delta';
      case 'error': {
        if (this.#streamTurn < this.#lastTurn) return undefined; // a failure of long ago, replayed
        const problem = event.data as ProblemData;
        this.#failPending();
        this.notice(`The reply failed: ${problem.code} — ${problem.detail}`);
        return 'reply-failed';
      }
      case 'escalation': {
        const data = event.data as { intent?: string };
        this.notice(`Flagged for a clinician (${data.intent ?? 'escalation'}).`);
        return 'notice';
      }
      case 'closed':
        this.notice('This conversation was closed: it is read-only now.');
        return 'notice';
      default:
        return undefined;
    }
  }

  /** A line in the transcript that is not a turn (an escalation, a failure). */
  notice(text: string): void {
    const item = el('li', { class: 'turn turn--notice' }, text);
    if (this.#pending) this.#list.insertBefore(item, this.#pending.item);
    else this.#list.append(item);
    this.#scrollToEnd(false);
  }

  /** End a reply that will not complete (its stream failed in this tab). */
  failPending(): void {
    this.#failPending();
  }

  /** A delta belongs to a reply in progress when the stream has caught up and the last turn awaits an answer. */
  #awaitingReply(): boolean {
    if (this.#pending) return true;
    if (this.#streamTurn < this.#lastTurn) return false;
    const last = this.#items.get(this.#lastTurn);
    return last !== undefined && last.dataset['role'] !== 'assistant';
  }

  /** Show a turn; false when it was shown already. */
  #putTurn(turn: Turn): boolean {
    this.#lastTurn = Math.max(this.#lastTurn, turn.number);
    if (this.#items.has(turn.number)) return false;
    let item: HTMLLIElement;
    if (turn.role === 'assistant' && this.#pending) {
      // The streamed bubble becomes the stored reply: same element, final text.
      item = this.#pending.item;
      this.#pending.text.textContent = turn.content;
      item.classList.remove('turn--streaming');
      this.#pending = undefined;
      this.#list.removeAttribute('aria-busy');
    } else {
      item = turnItem(turn.role, turn.content);
      this.#insert(item, turn.number);
    }
    item.dataset['turn'] = String(turn.number);
    item.dataset['role'] = turn.role;
    this.#items.set(turn.number, item);
    this.#scrollToEnd(turn.role !== 'assistant');
    return true;
  }

  /** Place a turn's item by number: usually last, before a reply still streaming. */
  #insert(item: HTMLLIElement, number: number): void {
    const later = [...this.#items.entries()].filter(([n]) => n > number).sort(([a], [b]) => a - b)[0];
    if (later) this.#list.insertBefore(item, later[1]);
    else if (this.#pending) this.#list.insertBefore(item, this.#pending.item);
    else this.#list.append(item);
  }

  #appendDelta(text: string): void {
    if (!this.#pending) {
      const item = turnItem('assistant', '');
      item.classList.add('turn--streaming');
      item.dataset['role'] = 'assistant';
      item.dataset['streaming'] = 'true';
      this.#list.append(item);
      // Screen readers wait for the whole reply instead of reading every fragment.
      this.#list.setAttribute('aria-busy', 'true');
      this.#pending = { item, text: item.querySelector('.turn__text') as HTMLElement };
    }
    this.#pending.text.textContent += text;
    this.#scrollToEnd(false);
  }

  #failPending(): void {
    const pending = this.#pending;
    if (!pending) return;
    pending.item.classList.remove('turn--streaming');
    pending.item.classList.add('turn--failed');
    delete pending.item.dataset['streaming'];
    this.#pending = undefined;
    this.#list.removeAttribute('aria-busy');
  }

  /** Keep the newest line in view, unless the reader scrolled up to read (a forced scroll for own turns). */
  #scrollToEnd(force: boolean): void {
    const list = this.#list;
    const nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    if (force || nearEnd) list.scrollTop = list.scrollHeight;
  }
}

function turnItem(role: Role, content: string): HTMLLIElement {
  return el(
    'li',
    { class: `turn turn--${role}` },
    el('span', { class: 'turn__who' }, WHO[role]),
    el('div', { class: 'turn__text' }, content),
  );
}
