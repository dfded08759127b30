import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { errorFromResponse } from '../../client/errors.ts';
import { ContinuumError, type TokenResponse } from '../../client/index.ts';
import { type CliIo, EXIT, UsageError } from '../io.ts';
import { apiKeyOption, DEFAULT_URL, urlOption } from '../options.ts';

export const tokenHelp = `continuum token [--url <base>] [--api-key <key>] --subject <subject> [--scope conversations|admin] [--json]
continuum token --refresh <refresh-token|-> [--url <base>] [--json]

Ask a running server for an access token (POST /v1/auth/token) and print it,
e.g. for curl: TOKEN=$(continuum token --subject patient-42).

The first form signs in with the tenant's API key (grant_type=api_key) for a
subject; the second exchanges a refresh token (grant_type=refresh_token) for
a new pair. Refresh tokens are single-use: the one presented is spent, and
the new one is printed only with --json. Presenting a spent one again
revokes its whole family (refresh_reused).

  --url       the server's base URL (default ${DEFAULT_URL})
  --api-key   the tenant's API key (default: the CONTINUUM_API_KEY environment variable)
  --subject   who the token speaks for, e.g. patient-42
  --scope     conversations (default: the subject's own) or admin (the whole tenant, audit)
  --refresh   a refresh token to exchange; - reads it from the first line of stdin
  --json      print the whole token response: {"access_token","token_type",
              "expires_in","refresh_token","refresh_expires_in","scope"}

A refusal prints the problem's code and detail (e.g. invalid_grant: The API
key is not valid) on stderr. Exit codes: 0 ok, 1 refused or the server could
not be reached, 2 usage error.`;

/** `continuum token`: see {@link tokenHelp}. */
export async function token(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      subject: { type: 'string' },
      scope: { type: 'string' },
      refresh: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`token takes no arguments; got ${positionals.join(' ')}`);
  const url = urlOption(values.url);
  let body: Record<string, string>;
  if (values.refresh !== undefined) {
    if (values['api-key'] !== undefined || values.subject !== undefined || values.scope !== undefined) {
      throw new UsageError('--refresh exchanges a refresh token; it takes no --api-key, --subject or --scope');
    }
    const refreshToken = values.refresh === '-' ? await firstLine(io) : values.refresh;
    if (!refreshToken) throw new UsageError('--refresh needs a refresh token');
    body = { grant_type: 'refresh_token', refresh_token: refreshToken };
  } else {
    if (!values.subject) throw new UsageError('--subject is required (or --refresh <refresh-token>)');
    const scope = values.scope ?? 'conversations';
    if (scope !== 'conversations' && scope !== 'admin') throw new UsageError('--scope is conversations or admin');
    body = { grant_type: 'api_key', api_key: apiKeyOption(values['api-key'], io), subject: values.subject, scope };
  }

  let pair: TokenResponse;
  try {
    pair = await requestToken(url, body);
  } catch (error) {
    if (!(error instanceof ContinuumError)) throw error;
    const status = error.status === 0 ? '' : ` (HTTP ${error.status})`;
    io.err(`continuum token: ${error.code}: ${error.detail}${status}`);
    return EXIT.failure;
  }
  io.out(values.json ? JSON.stringify(pair) : pair.access_token);
  return EXIT.ok;
}

/**
 * One token request.
 *
 * @throws ContinuumError the server's problem (`invalid_grant`, `refresh_reused`, …), `network_error`
 *   without an answer, or `unexpected_response` for an answer that is not a token response.
 */
async function requestToken(url: string, body: Record<string, string>): Promise<TokenResponse> {
  let response: Response;
  try {
    response = await fetch(`${url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    // fetch's own message is only "fetch failed"; its cause says why (ECONNREFUSED, a DNS failure).
    const cause = (error as { cause?: { message?: unknown } }).cause?.message;
    throw new ContinuumError({
      code: 'network_error',
      status: 0,
      detail: `cannot reach ${url} (${typeof cause === 'string' && cause !== '' ? cause : String(error)})`,
      cause: error,
    });
  }
  if (!response.ok) throw await errorFromResponse(response);
  const text = await response.text();
  let pair: TokenResponse | undefined;
  try {
    pair = JSON.parse(text) as TokenResponse;
  } catch {
    pair = undefined;
  }
  if (typeof pair?.access_token !== 'string') {
    throw new ContinuumError({
      code: 'unexpected_response',
      status: response.status,
      detail: `the answer is not a token response: ${text.slice(0, 200)}`,
    });
  }
  return pair;
}

/** The first line of stdin, trimmed (for `--refresh -`, keeping the token out of the process list). */
async function firstLine(io: CliIo): Promise<string> {
  if (!io.stdin) return '';
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    rl.close();
  }
}
