import type { Redis } from 'ioredis';
import type { RedisConnection } from '../../sync/redis-connection.ts';

/** A limit decided on this node alone because Redis did not answer. */
export interface LimitFallback {
  /** What fell back: `rate_limit:tenant`, `rate_limit:subject`, `session_touch`, `session_release`, `session_active`. */
  operation: string;
  error: unknown;
}

/**
 * Runs a limit's Redis command, or says it could not: the caller then
 * decides on this node alone. A refusal by the limit itself is an answer,
 * never a fallback; only a command that fails or times out is. Nothing is
 * remembered between calls, so the first call after Redis answers again
 * counts across nodes again.
 */
export class RedisAttempt {
  readonly #connection: RedisConnection;
  readonly #timeoutMs: number;
  readonly #onFallback: ((event: LimitFallback) => void) | undefined;

  constructor(
    connection: RedisConnection,
    options: { timeoutMs: number; onFallback?: (event: LimitFallback) => void },
  ) {
    this.#connection = connection;
    this.#timeoutMs = options.timeoutMs;
    this.#onFallback = options.onFallback;
  }

  /** The command's answer, or `undefined` (reported to `onFallback`) when Redis did not give one. */
  async run<T extends NonNullable<unknown>>(
    operation: string,
    command: (client: Redis) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      await this.#connection.ready(this.#timeoutMs);
      return await command(this.#connection.client);
    } catch (error) {
      this.#onFallback?.({ operation, error });
      return undefined;
    }
  }
}
