import type { ErrorCode } from '../errors/codes.ts';
import type { Turn } from './types.ts';

/**
 * Codes the SDK raises on its own, when there is no problem document from
 * the server to carry one:
 * - `network_error`: the request never got an HTTP answer (connection refused
 *   or reset, DNS failure, a stream cut and not resumable);
 * - `unexpected_response`: an answer that is not this API's (a proxy's HTML
 *   error page, a body that is not JSON);
 * - `sync_closed`: the sync connection was closed before an append was
 *   acknowledged, or closed for good.
 */
export type ClientErrorCode = 'network_error' | 'unexpected_response' | 'sync_closed';

/** Every code a {@link ContinuumError} can carry: the server's problem codes and the SDK's own. */
export type ContinuumErrorCode = ErrorCode | ClientErrorCode;

/** An RFC 9457 problem document as the server sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  instance?: string;
  requestId?: string;
  [extra: string]: unknown;
}

/** What a {@link ContinuumError} is built from. */
export interface ContinuumErrorInit {
  code: ContinuumErrorCode;
  status: number;
  detail: string;
  title?: string;
  requestId?: string;
  problem?: Problem;
  retryAfter?: number;
  cause?: unknown;
}

/**
 * The one error the SDK throws for a refused or failed request. `code` is a
 * literal union, so `switch (error.code)` narrows; the extras of the problem
 * document are typed fields (`currentTurn` and `missed` on `turn_conflict`,
 * `retryAfter` on every `429`).
 *
 * @example
 * try {
 *   await client.turns.append(id, { role: 'user', content: 'Hi', expectedTurn: 3 });
 * } catch (error) {
 *   if (error instanceof ContinuumError && error.code === 'turn_conflict') {
 *     console.log(`at turn ${error.currentTurn}; missed`, error.missed);
 *   } else throw error;
 * }
 */
export class ContinuumError extends Error {
  override readonly name = 'ContinuumError';
  /** The stable problem code (switch on this, not on `detail`). */
  readonly code: ContinuumErrorCode;
  /** HTTP status; `0` when there was no HTTP answer. */
  readonly status: number;
  /** Human-readable explanation (the problem's `detail`). */
  readonly detail: string;
  /** The problem's `title`, when the server sent one. */
  readonly title: string | undefined;
  /** The server's request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** `turn_conflict`: the conversation's current turn. */
  readonly currentTurn: number | undefined;
  /** `turn_conflict`: the turns after the `expectedTurn` that was sent (at most 100). */
  readonly missed: Turn[] | undefined;
  /** `turn_conflict`: true when `missed` was cut at 100 turns. */
  readonly missedTruncated: boolean;
  /** `429`s (and `503`s with `Retry-After`): seconds to wait before retrying. */
  readonly retryAfter: number | undefined;
  /** The whole problem document, with any extra member. */
  readonly problem: Problem;

  constructor(init: ContinuumErrorInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    const problem = init.problem ?? {};
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.title = init.title ?? (typeof problem.title === 'string' ? problem.title : undefined);
    this.requestId = init.requestId ?? (typeof problem.requestId === 'string' ? problem.requestId : undefined);
    this.currentTurn = typeof problem['currentTurn'] === 'number' ? problem['currentTurn'] : undefined;
    this.missed = Array.isArray(problem['missed']) ? (problem['missed'] as Turn[]) : undefined;
    this.missedTruncated = problem['missedTruncated'] === true;
    const fromBody = typeof problem['retryAfter'] === 'number' ? problem['retryAfter'] : undefined;
    this.retryAfter = init.retryAfter ?? fromBody;
    this.problem = problem;
  }
}

/** True when `value` is a {@link ContinuumError}, optionally with one of `codes`. */
export function isContinuumError(value: unknown, ...codes: ContinuumErrorCode[]): value is ContinuumError {
  return value instanceof ContinuumError && (codes.length === 0 || codes.includes(value.code));
}

/** A problem document (from a response body, an SSE `error` event or a sync `error` frame) as an error. */
export function errorFromProblem(problem: Problem, status: number, retryAfterHeader?: string | null): ContinuumError {
  const code = typeof problem.code === 'string' ? (problem.code as ContinuumErrorCode) : 'unexpected_response';
  const headerSeconds = retryAfterHeader ? Number(retryAfterHeader) : Number.NaN;
  return new ContinuumError({
    code,
    status: typeof problem.status === 'number' ? problem.status : status,
    detail: typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`,
    problem,
    ...(Number.isFinite(headerSeconds) ? { retryAfter: headerSeconds } : {}),
  });
}

/** Reads a non-2xx response into a {@link ContinuumError}. */
export async function errorFromResponse(response: Response): Promise<ContinuumError> {
  const text = await response.text().catch(() => '');
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const problem = JSON.parse(text) as Problem;
      if (problem && typeof problem === 'object')
        return errorFromProblem(problem, response.status, response.headers.get('retry-after'));
    } catch {
      // Not JSON after all: fall through.
    }
  }
  return new ContinuumError({
    code: 'unexpected_response',
    status: response.status,
    detail: `HTTP ${response.status} without a problem document${text ? `: ${text.slice(0, 200)}` : ''}`,
  });
}

/** A fetch that never got an answer. */
export function networkError(cause: unknown, what: string): ContinuumError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ContinuumError({ code: 'network_error', status: 0, detail: `${what}: ${reason}`, cause });
}

/** True for the error an aborted fetch or read rejects with. */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
