import { COUNT_NAMES, type TransferProgress } from '../transfer/format.ts';

/** Progress of a long command on stderr. */
export interface Progress {
  update(progress: TransferProgress): void;
  /** Draw the last state (on a TTY) and end the line. */
  finish(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is running, e.g. `export`. */
  label: string;
  /** A TTY gets a bar redrawn in place; anything else a line every `everyMs`. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Where lines go when `stream` is absent. */
  line: (text: string) => void;
  /** Draw nothing at all. */
  quiet?: boolean;
  everyMs?: number;
  now?: () => number;
}

const BAR = 20;
const TTY_REDRAW_MS = 100;
const number = new Intl.NumberFormat('en-US');

/**
 * A small progress display: on a TTY, a bar over the tenants with record
 * counts and a rate, redrawn at most ten times a second; otherwise one line
 * every few seconds (for logs); nothing when quiet.
 *
 * @example
 * const progress = createProgress({ label: 'export', stream: process.stderr, line: console.error });
 * await exportTenants(store, { write, onProgress: (p) => progress.update(p) });
 * progress.finish();
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const tty = options.stream?.isTTY === true;
  const every = tty ? TTY_REDRAW_MS : (options.everyMs ?? 5000);
  const started = now();
  let last: TransferProgress | null = null;
  let drawnAt = started;
  let drawn = false;
  let finished = false;

  const render = (p: TransferProgress): string => {
    const c = p.counts;
    const records = COUNT_NAMES.reduce((sum, name) => sum + c[name], 0);
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const filled = p.tenantsTotal === 0 ? BAR : Math.round((p.tenantsDone / p.tenantsTotal) * BAR);
    const bar = tty ? `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ` : '';
    return (
      `${options.label} ${bar}${p.tenantsDone}/${p.tenantsTotal} tenants · ` +
      `${number.format(c.conversations)} conversations · ${number.format(c.turns)} turns · ` +
      `${number.format(c.auditEvents)} audit events · ${number.format(Math.round(records / seconds))} records/s`
    );
  };
  const draw = (p: TransferProgress): void => {
    drawn = true;
    drawnAt = now();
    if (tty) options.stream!.write(`\r\x1b[2K${render(p)}`);
    else if (options.stream) options.stream.write(`${render(p)}\n`);
    else options.line(render(p));
  };

  return {
    update(progress) {
      last = progress;
      if (!finished && !options.quiet && now() - drawnAt >= every) draw(progress);
    },
    finish() {
      if (finished || options.quiet || !tty) return;
      finished = true;
      if (last) draw(last);
      if (drawn) options.stream!.write('\n');
    },
  };
}

/** `1 turn`, `2 turns`. */
export function plural(count: number, noun: string): string {
  return `${number.format(count)} ${noun}${count === 1 ? '' : 's'}`;
}
