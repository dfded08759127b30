import { ERROR_CODES, type ErrorCode } from './codes.ts';

/** Extra members rendered into the problem document (e.g. `currentTurn`). */
export type ProblemExtras = Record<string, unknown>;

export interface AppErrorOptions {
  /** Extra fields for the problem+json body. Never put secrets or PHI here. */
  extras?: ProblemExtras;
  /** Response headers to add (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The project's one error class. `code` is a literal union so
 * `switch (err.code)` narrows; the HTTP status comes from the code table.
 *
 * @example
 * throw new AppError('not_found', 'No such conversation');
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly extras: ProblemExtras;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.extras = options.extras ?? {};
    this.headers = options.headers ?? {};
  }

  get title(): string {
    return ERROR_CODES[this.code].title;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
