import type { Turn, WorkingContext } from '../../client/index.ts';
import type { CliIo } from '../io.ts';

type Style = 'bold' | 'dim' | 'cyan' | 'yellow' | 'red' | 'green';
const ANSI: Record<Style, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
};

/**
 * What the chat shows, written as it comes: whole lines, and a reply's text
 * piece by piece. It knows whether the cursor is mid-line, so a notice that
 * arrives while a reply streams (the server went away) starts on a line of
 * its own, and the reply then goes on after a `…` marker.
 */
export class Screen {
  /** Colour is used only on a terminal, and never with `NO_COLOR` set. */
  readonly colour: boolean;
  readonly #write: (text: string) => void;
  readonly #flushLines: () => void;
  #atLineStart = true;
  /** Bumped by every whole line written, so a streaming reply can tell it was interrupted. */
  #lines = 0;

  constructor(io: CliIo) {
    const stdout = io.stdout as (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
    this.colour = stdout?.isTTY === true && !io.env['NO_COLOR'];
    if (stdout) {
      this.#write = (text) => void stdout.write(text);
      this.#flushLines = () => {};
    } else {
      // Only `out(line)`: hand it whole lines, keeping a partial one until it ends.
      let pending = '';
      this.#write = (text) => {
        pending += text;
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          io.out(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      };
      this.#flushLines = () => {
        if (pending !== '') io.out(pending);
        pending = '';
      };
    }
  }

  /** `text` in `style` when colour is on. */
  paint(style: Style, text: string): string {
    if (!this.colour) return text;
    const [open, close] = ANSI[style];
    return `${open}${text}${close}`;
  }

  /** Writes `text` as it is (a piece of a reply). */
  text(text: string): void {
    if (text === '') return;
    this.#write(text);
    this.#atLineStart = text.endsWith('\n');
  }

  /** Writes one whole line, on a line of its own. */
  line(text = ''): void {
    this.endLine();
    this.#write(`${text}\n`);
    this.#atLineStart = true;
    this.#lines += 1;
  }

  /** Something the chat itself says (not the conversation): connection state, a lost reply. */
  notice(text: string): void {
    this.line(this.paint('yellow', `! ${text}`));
  }

  /** A failure the user should act on. */
  error(text: string): void {
    this.line(this.paint('red', `! ${text}`));
  }

  /** Ends a partly written line. */
  endLine(): void {
    if (!this.#atLineStart) this.#write('\n');
    this.#atLineStart = true;
  }

  /** A terminal prompt was drawn: a notice arriving now goes below it. */
  afterPrompt(): void {
    this.#atLineStart = false;
  }

  /** The user pressed Enter at the prompt: the cursor is at the start of a line. */
  afterInput(): void {
    this.#atLineStart = true;
  }

  /** A mark that changes whenever a whole line was written (see {@link Screen}). */
  get mark(): number {
    return this.#lines;
  }

  /** Ends the output: the last partial line is finished and handed over. */
  close(): void {
    this.endLine();
    this.#flushLines();
  }

  /** `#3 user: text`, continuation lines indented. */
  turn(turn: Turn): void {
    this.line(`${this.paint('dim', `#${turn.number}`)} ${this.label(turn.role)} ${indent(turn.content)}`);
  }

  /** `assistant:` (coloured by role). */
  label(role: string): string {
    return this.paint(role === 'user' ? 'green' : role === 'assistant' ? 'cyan' : 'bold', `${role}:`);
  }

  /** The working context in a few lines: profile facts, summary, what else is in the prompt, the token budget. */
  context(context: WorkingContext): void {
    const facts = profileLines(context.profile);
    this.line(this.paint('bold', 'profile'));
    if (facts.length === 0) this.line('  (nothing on record yet)');
    for (const line of facts) this.line(`  ${line}`);
    this.line(`${this.paint('bold', 'summary')} ${context.summary === '' ? '(none yet)' : indent(context.summary)}`);
    const budget = typeof context.budget === 'number' ? ` of a ${context.budget}-token budget` : '';
    this.line(
      `${this.paint('bold', 'prompt')} ${context.tokens} tokens${budget}: ` +
        `${context.recent.length} recent turns verbatim, ${context.retrieved.length} older ones retrieved` +
        (typeof context.messages === 'number' ? `, ${context.messages} messages in all` : ''),
    );
  }
}

/** Continuation lines of a multi-line text, indented under its first. */
function indent(text: string): string {
  return text.replace(/\n/g, '\n    ');
}

type ProfileLike = WorkingContext['profile'];

/** One line per non-empty profile section, each fact in a few words. */
export function profileLines(profile: ProfileLike): string[] {
  const sections: [string, string[]][] = [
    ['medications', profile.medications.map((m) => words(m.name, m.dose, m.frequency, m.route, status(m.status)))],
    ['allergies', profile.allergies.map((a) => words(a.substance, a.reaction && `(${a.reaction})`, status(a.status)))],
    ['conditions', profile.conditions.map((c) => words(c.name, status(c.status)))],
    ['procedures', profile.procedures.map((p) => words(p.name, p.date, status(p.status)))],
    [
      'people',
      profile.people.map((p) => words(p.name, p.relation, p.conditions.length > 0 && `(${p.conditions.join(', ')})`)),
    ],
    ['dates', profile.dates.map((d) => words(d.text, d.context && `(${d.context})`))],
    ['preferences', profile.preferences.map((p) => p.text)],
    ['other', profile.entities.map((e) => words(e.text, `(${e.type})`))],
  ];
  return sections.filter(([, facts]) => facts.length > 0).map(([name, facts]) => `${name}: ${facts.join('; ')}`);
}

/** `active` goes without saying; the other states are shown. */
function status(value: string | undefined): string | undefined {
  return value === undefined || value === 'active' ? undefined : `[${value}]`;
}

function words(...parts: (string | false | undefined | null | 0)[]): string {
  return parts.filter((part): part is string => typeof part === 'string' && part !== '').join(' ');
}
