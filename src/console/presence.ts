import type { SyncPresentMember } from '../client/index.ts';

/**
 * "Also here: …" — who else has the open conversation open, from the sync
 * connection's `subscribed` list and the `presence` events after it. One
 * entry per subject, with the number of its connections: the signed-in
 * subject's other connections show as "you in another tab".
 */

/**
 * The line for these other connections, `''` when there are none; the
 * signed-in subject first, then the others by name.
 *
 * @example
 * describePresence([{ subject: 'patient-7', connection: 'c1' }, { subject: 'dr-lee', connection: 'c2' }], 'patient-7')
 * // 'Also here: you in another tab, dr-lee'
 */
export function describePresence(members: Iterable<SyncPresentMember>, self: string | undefined): string {
  const tabs = new Map<string, number>();
  for (const { subject } of members) tabs.set(subject, (tabs.get(subject) ?? 0) + 1);
  const names: string[] = [];
  const own = self === undefined ? 0 : (tabs.get(self) ?? 0);
  if (own > 0) names.push(own === 1 ? 'you in another tab' : `you in ${own} other tabs`);
  const others = [...tabs].filter(([subject]) => subject !== self).sort(([a], [b]) => a.localeCompare(b));
  for (const [subject, count] of others) names.push(count === 1 ? subject : `${subject} (${count} tabs)`);
  return names.length === 0 ? '' : `Also here: ${names.join(', ')}`;
}

/** The presence line of the open conversation, kept in an `aria-live="polite"` element. */
export class PresenceLine {
  readonly #element: HTMLElement;
  /** The other connections: connection id → member. */
  readonly #members = new Map<string, SyncPresentMember>();
  #self: string | undefined;

  constructor(element: HTMLElement) {
    this.#element = element;
  }

  /** Start over from a `subscribed` list: joins and leaves while disconnected were never sent. */
  reset(present: readonly SyncPresentMember[], self: string | undefined): void {
    this.#self = self;
    this.#members.clear();
    for (const member of present) this.#members.set(member.connection, member);
    this.#render();
  }

  /** Apply a `presence` event's data; anything not shaped like one is ignored. */
  apply(data: unknown): void {
    const change = data as Partial<SyncPresentMember & { status: string }> | null;
    if (typeof change?.subject !== 'string' || typeof change.connection !== 'string') return;
    if (change.status === 'joined') {
      this.#members.set(change.connection, { subject: change.subject, connection: change.connection });
    } else if (change.status === 'left') {
      this.#members.delete(change.connection);
    }
    this.#render();
  }

  /** Nobody known (disconnected, or no conversation open). */
  clear(): void {
    this.#members.clear();
    this.#render();
  }

  #render(): void {
    const text = describePresence(this.#members.values(), this.#self);
    // Unchanged text is left alone, so a screen reader does not hear it again.
    if (this.#element.textContent !== text) this.#element.textContent = text;
  }
}
