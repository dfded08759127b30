import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import type { TokenResponse } from '../../src/client/index.ts';
import { type ClientTestServer, startServer } from '../client/support.ts';

async function run(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env: options.env ?? {}, out: (l) => out.push(l), err: (l) => err.push(l) };
  if (options.stdin !== undefined) {
    const stdin = new PassThrough();
    stdin.end(options.stdin);
    io.stdin = stdin;
  }
  const code = await main(['token', ...args], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The status a token gets from an authenticated route. */
async function statusWith(s: ClientTestServer, token: string): Promise<number> {
  const res = await fetch(`${s.url}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

describe('continuum token', () => {
  let s: ClientTestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('prints an access token the server accepts, with the API key from --api-key or CONTINUUM_API_KEY', async () => {
    s = await startServer();
    const flag = await run(['--url', s.url, '--api-key', s.apiKey, '--subject', 'patient-1']);
    expect(flag).toMatchObject({ code: 0, err: '' });
    expect(flag.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await statusWith(s, flag.out)).toBe(200);

    const env = await run(['--url', `${s.url}/`, '--subject', 'patient-1'], { env: { CONTINUUM_API_KEY: s.apiKey } });
    expect(env.code).toBe(0);
    expect(await statusWith(s, env.out)).toBe(200);
  });

  it('--json prints the whole response; --refresh exchanges its refresh token once, and a second time is refresh_reused', async () => {
    s = await startServer();
    const signIn = await run([
      '--url',
      s.url,
      '--api-key',
      s.apiKey,
      '--subject',
      'patient-1',
      '--scope',
      'admin',
      '--json',
    ]);
    expect(signIn.code).toBe(0);
    const pair = JSON.parse(signIn.out) as TokenResponse;
    expect(pair).toMatchObject({ token_type: 'Bearer', scope: 'admin', expires_in: 1800 });
    expect(pair.refresh_token).toEqual(expect.any(String));
    expect(pair.refresh_expires_in).toBeGreaterThan(0);

    const refreshed = await run(['--url', s.url, '--refresh', pair.refresh_token, '--json']);
    expect(refreshed.code).toBe(0);
    const next = JSON.parse(refreshed.out) as TokenResponse;
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    expect(await statusWith(s, next.access_token)).toBe(200);

    // From stdin (`-`), keeping the token out of the process list; a plain run prints the access token only.
    const fromStdin = await run(['--url', s.url, '--refresh', '-'], { stdin: `${next.refresh_token}\n` });
    expect(fromStdin.code).toBe(0);
    expect(await statusWith(s, fromStdin.out)).toBe(200);

    const reused = await run(['--url', s.url, '--refresh', pair.refresh_token]);
    expect(reused).toMatchObject({ code: 1, out: '' });
    expect(reused.err).toMatch(/^continuum token: refresh_reused: .+ \(HTTP 401\)$/);
  });

  it('a refusal prints the problem code and detail and exits 1', async () => {
    s = await startServer();
    const refused = await run(['--url', s.url, '--api-key', 'ck.tnt_nobody.nothing', '--subject', 'patient-1']);
    expect(refused).toMatchObject({ code: 1, out: '' });
    expect(refused.err).toBe('continuum token: invalid_grant: The API key is not valid (HTTP 401)');
    const unknown = await run(['--url', s.url, '--refresh', 'not-a-refresh-token']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^continuum token: invalid_grant: /);
  });

  it('exits 1 when nothing answers at --url', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await run(['--url', `http://127.0.0.1:${port}`, '--api-key', 'k', '--subject', 'p']);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`continuum token: network_error: cannot reach http://127.0.0.1:${port} (`);
    expect(result.err).toContain('ECONNREFUSED');
  });

  it('exits 2 on a usage error', async () => {
    expect((await run(['--api-key', 'k'])).code).toBe(2);
    expect((await run(['--subject', 'p'])).code).toBe(2);
    expect((await run(['--api-key', 'k', '--subject', 'p', '--scope', 'root'])).code).toBe(2);
    expect((await run(['--refresh', 'r', '--subject', 'p'])).code).toBe(2);
    expect((await run(['--refresh', ''])).code).toBe(2);
    expect((await run(['--url', 'not a url', '--api-key', 'k', '--subject', 'p'])).code).toBe(2);
    expect((await run(['extra', '--api-key', 'k', '--subject', 'p'])).code).toBe(2);
    const usage = await run(['--subject', 'p']);
    expect(usage.err).toContain('CONTINUUM_API_KEY');
    expect(usage.err).toContain('continuum token [--url <base>]');
  });
});
