/** Exit codes of the `continuum` command (documented in the README). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 78,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  /** Raw streams, for commands that move data (`export`, `import`); without them they fall back to `out`/`err`. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  /** Where progress is drawn; redrawn in place when it is a TTY. */
  stderr?: { write(text: string): unknown; isTTY?: boolean };
}

export const processIo: CliIo = {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
};
