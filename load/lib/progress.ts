/**
 * A progress display on stderr: one line rewritten every second on a
 * terminal, a new line every five seconds otherwise (CI logs, pipes).
 */
export class Progress {
  readonly #label: string;
  readonly #render: () => string;
  readonly #enabled: boolean;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = performance.now();
  #lastPrinted = 0;

  constructor(label: string, render: () => string, enabled = true) {
    this.#label = label;
    this.#render = render;
    this.#enabled = enabled;
    this.#tty = process.stderr.isTTY === true;
  }

  start(): void {
    if (!this.#enabled) return;
    this.#startedAt = performance.now();
    this.#timer = setInterval(() => this.#tick(), 1_000);
    this.#timer.unref();
  }

  /** Print a line of its own (the progress line is redrawn after it). */
  note(line: string): void {
    if (!this.#enabled) return;
    process.stderr.write(this.#tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    process.stderr.write(this.#tty ? `\r\x1b[K${this.#line()}\n` : `${this.#line()}\n`);
  }

  #line(): string {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return `[${this.#label}] ${seconds.toFixed(0)} s  ${this.#render()}`;
  }

  #tick(): void {
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K${this.#line().slice(0, (process.stderr.columns ?? 200) - 1)}`);
      return;
    }
    const now = performance.now();
    if (now - this.#lastPrinted < 5_000) return;
    this.#lastPrinted = now;
    process.stderr.write(`${this.#line()}\n`);
  }
}

/** A stderr logger that the quiet mode (tests) silences. */
export function logger(enabled: boolean): (line: string) => void {
  return enabled ? (line) => process.stderr.write(`${line}\n`) : () => {};
}
