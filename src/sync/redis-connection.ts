import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Shown by `CLIENT LIST`, e.g. `continuum:publisher`. */
  name: string;
  /** Longest wait for the answer to one command before it fails. */
  commandTimeoutMs: number;
  /** Longest wait for a TCP connection (default 1000 ms). */
  connectTimeoutMs?: number;
  /**
   * Told when the connection goes down: once per outage (the first error
   * after the last time it was ready), never again while it keeps retrying.
   */
  onError?: (error: Error) => void;
}

/** Check a Redis URL at boot, with a message that says how to fix it. */
export function checkRedisUrl(url: unknown, owner: string): string {
  if (typeof url !== 'string' || url === '') throw new TypeError(`${owner}: url is required (redis://host:6379)`);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`${owner}: url is not a URL; use redis://host:6379 or rediss://host:6380`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(`${owner}: url must start with redis:// or rediss://, not ${protocol}//`);
  }
  return url;
}

/**
 * One ioredis connection tuned to fail fast: no offline queue (a command
 * sent while disconnected is refused at once), one retry per command, a
 * short command timeout. ioredis keeps reconnecting in the background
 * (every 100 ms, backing off to 1 s), so callers recover without a
 * restart. `error` events are always listened to: an outage never crashes
 * the process.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly #onError: ((error: Error) => void) | undefined;
  #down = false;
  #reported = false;
  #lastError: Error | undefined;
  #closing = false;

  constructor(options: RedisConnectionOptions) {
    checkRedisUrl(options.url, 'RedisConnection');
    if (!(options.commandTimeoutMs > 0)) throw new TypeError('RedisConnection: commandTimeoutMs must be positive');
    this.#onError = options.onError;
    this.client = new Redis(options.url, {
      connectionName: options.name,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
      // Subscribers keep their own list of wanted channels and restore it on every `ready`.
      autoResubscribe: false,
    });
    this.client.on('ready', () => {
      this.#down = false;
      this.#reported = false;
    });
    this.client.on('error', (error: Error) => this.#fail(error));
    this.client.on('close', () => {
      if (!this.#closing) this.#fail(new Error(`Redis connection ${options.name} closed`));
    });
  }

  /** True while the connection is up and accepting commands. */
  get healthy(): boolean {
    return this.client.status === 'ready';
  }

  /** The error that took the connection down last, if any. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * Resolve when the connection can take commands. Rejects at once while
   * it is known to be down, and after `timeoutMs` while it is still making
   * its first connection.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    if (this.#down || this.#closing) return Promise.reject(this.#unavailable());
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.client.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(this.#unavailable());
      const timer = setTimeout(() => done(new Error(`Redis did not connect within ${timeoutMs} ms`)), timeoutMs);
      this.client.once('ready', onReady);
      this.client.once('close', onClose);
    });
  }

  /** Close the connection: politely when it is up, at once when it is not. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // Fall through to a hard disconnect.
      }
    }
    this.client.disconnect();
  }

  #unavailable(): Error {
    const reason = this.#closing ? 'closed' : (this.#lastError?.message ?? this.client.status);
    return new Error(`Redis is unavailable (${reason})`, { cause: this.#lastError });
  }

  #fail(error: Error): void {
    this.#down = true;
    this.#lastError = error;
    if (this.#reported) return;
    this.#reported = true;
    this.#onError?.(error);
  }
}
