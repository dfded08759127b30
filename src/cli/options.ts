import type { CliIo } from './io.ts';
import { UsageError } from './io.ts';

/** The server the client commands (`chat`, `token`) talk to when `--url` is not given. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `--url`: an http(s) base URL, without a trailing slash. */
export function urlOption(value: string | undefined): string {
  const raw = value ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must be an http(s) URL');
  return raw.replace(/\/+$/, '');
}

/**
 * `--api-key`, else the `CONTINUUM_API_KEY` environment variable (which
 * keeps the key out of the process list and the shell history).
 */
export function apiKeyOption(value: string | undefined, io: CliIo): string {
  const key = value ?? io.env['CONTINUUM_API_KEY'];
  if (!key) throw new UsageError('--api-key (or the CONTINUUM_API_KEY environment variable) is required');
  return key;
}

/** A positive number of (e.g.) seconds, or `fallback` when the option is absent. */
export function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number`);
  return number;
}
