/**
 * Small DOM helpers for the console. Text always goes in through
 * `textContent`, never `innerHTML`: conversation content is untrusted.
 */

/** The element with this id; throws when the page lacks it (a broken page should fail loudly, not half work). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`The console page has no #${id}`);
  return element as T;
}

type Attributes = Record<string, string | boolean | undefined>;

/**
 * Create an element with attributes (a `true` boolean sets it empty, `false`
 * or `undefined` leaves it out) and children (strings become text nodes).
 *
 * @example
 * el('li', { class: 'turn' }, el('span', { class: 'turn__who' }, 'You'))
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}

/** A short local date and time, e.g. "25 Nov, 09:14". */
export function shortTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
