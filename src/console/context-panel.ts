import type { Profile, Turn, WorkingContext } from '../client/index.ts';
import { byId, el } from './dom.ts';

type Fact = Profile['medications'][number] | Profile['allergies'][number] | Profile['conditions'][number];

/**
 * The side panel: the working context the model sees for the next turn
 * (`GET /v1/conversations/{id}/context`) — the profile's facts, the rolling
 * summary, the recent turns and the token budget.
 */
export class ContextPanel {
  readonly #empty = byId('context-empty');
  readonly #body = byId('context-body');
  readonly #updated = byId('context-updated');
  readonly #meter = byId<HTMLMeterElement>('budget-meter');
  readonly #budget = byId('budget-text');
  readonly #profile = byId('profile');
  readonly #summary = byId('summary');
  readonly #recent = byId<HTMLOListElement>('recent');

  /** Back to the empty state (no conversation open). */
  clear(): void {
    this.#body.hidden = true;
    this.#empty.hidden = false;
    this.#updated.textContent = '';
  }

  show(context: WorkingContext): void {
    this.#empty.hidden = true;
    this.#body.hidden = false;
    this.#updated.textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;

    const budget = typeof context.budget === 'number' && context.budget > 0 ? context.budget : undefined;
    this.#meter.max = budget ?? Math.max(context.tokens, 1);
    this.#meter.value = Math.min(context.tokens, this.#meter.max);
    this.#meter.setAttribute('aria-label', 'Tokens used of the context budget');
    const percent = budget === undefined ? '' : ` (${Math.round((context.tokens / budget) * 100)} %)`;
    this.#budget.textContent =
      budget === undefined
        ? `${context.tokens.toLocaleString()} tokens`
        : `${context.tokens.toLocaleString()} of ${budget.toLocaleString()} tokens${percent}`;

    this.#profile.replaceChildren(profileList(context.profile, Number(context['profileOmitted'] ?? 0)));
    this.#summary.textContent =
      context.summary === '' ? 'No summary yet: every turn still fits as it is.' : context.summary;
    this.#summary.classList.toggle('muted', context.summary === '');
    this.#recent.replaceChildren(...context.recent.map(recentItem));
    if (context.recent.length === 0) this.#recent.append(el('li', { class: 'muted' }, 'No turns yet.'));
  }
}

/** The profile as a definition list: one entry per non-empty section. */
function profileList(profile: Profile, omitted: number): HTMLElement {
  const sections: [string, string[]][] = [
    ['Medications', profile.medications.map((m) => describe(m, [m.name, m.dose, m.frequency, m.route]))],
    ['Allergies', profile.allergies.map((a) => describe(a, [a.substance, a.reaction && `(${a.reaction})`]))],
    ['Conditions', profile.conditions.map((c) => describe(c, [c.name]))],
    [
      'Procedures',
      profile.procedures.map((p) =>
        [p.name, p.date, p.status === 'negated' ? '(never)' : ''].filter(Boolean).join(' '),
      ),
    ],
    [
      'People',
      profile.people.map((p) =>
        [p.relation, p.name, p.conditions.length ? `— ${p.conditions.join(', ')}` : ''].filter(Boolean).join(' '),
      ),
    ],
    ['Dates', profile.dates.map((d) => `${d.text}${d.context ? ` — ${d.context}` : ''}`)],
    ['Preferences', profile.preferences.map((p) => p.text)],
    ['Other', profile.entities.map((e) => `${e.text} (${e.type})`)],
  ];
  const filled = sections.filter(([, items]) => items.length > 0);
  if (filled.length === 0) return el('p', { class: 'muted' }, 'No facts yet.');
  const list = el('dl', { class: 'facts' });
  for (const [title, items] of filled) {
    list.append(el('dt', {}, title), el('dd', {}, el('ul', {}, ...items.map((text) => el('li', {}, text)))));
  }
  if (omitted > 0) {
    const wrapper = el('div', {}, list, el('p', { class: 'muted' }, `${omitted} more facts did not fit the budget.`));
    return wrapper;
  }
  return list;
}

/** A fact's words, with its status when it is not simply active. */
function describe(fact: Fact, parts: (string | undefined)[]): string {
  const text = parts.filter((part) => part !== undefined && part !== '').join(' ');
  const status = fact.status === 'active' ? '' : ` [${fact.status}]`;
  return `${text}${status}`;
}

function recentItem(turn: Turn): HTMLLIElement {
  const role = turn.role.charAt(0).toUpperCase() + turn.role.slice(1);
  const text = turn.content.length > 160 ? `${turn.content.slice(0, 157)}…` : turn.content;
  return el('li', { value: String(turn.number) }, el('span', { class: 'recent__role' }, `${role}: `), text);
}
