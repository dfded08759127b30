import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import type { Turn } from '../../src/client/index.ts';
import { type ClientTestServer, startProxy, startServer } from '../client/support.ts';
import {
  callJson,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
  tenantWithToken,
} from '../helpers/server-process.ts';

const SUBJECT = 'patient-chat';

/** A chat run in-process through `main()`: lines go in through a PassThrough stdin, the screen is collected. */
function startChat(args: string[], env: Record<string, string> = {}) {
  const stdin = new PassThrough();
  let text = '';
  const err: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const io: CliIo = {
    env,
    out: (line) => {
      text += `${line}\n`;
    },
    err: (line) => err.push(line),
    stdin,
    stdout,
  };
  const exit = main(['chat', ...args], io);
  return {
    exit,
    err,
    get text() {
      return text;
    },
    say: (line: string) => void stdin.write(`${line}\n`),
    end: () => stdin.end(),
    /** How many times `needle` appears on the screen. */
    count: (needle: string) => text.split(needle).length - 1,
  };
}

type Chat = ReturnType<typeof startChat>;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The conversation's stored turns, read over HTTP with a fresh token (the chat's are its own). */
async function storedTurns(url: string, apiKey: string, id: string): Promise<Turn[]> {
  const pair = await callJson<{ access_token: string }>(url, 'POST', '/v1/auth/token', {
    body: { grant_type: 'api_key', api_key: apiKey, subject: SUBJECT, scope: 'conversations' },
  });
  const res = await callJson<{ items: Turn[] }>(url, 'GET', `/v1/conversations/${id}/turns?limit=500`, {
    token: pair.body.access_token,
  });
  expect(res.status).toBe(200);
  return res.body.items;
}

/** The conversation id the chat printed when it opened. */
const conversationOf = (chat: Chat) =>
  waitFor('the chat to open its conversation', () => /conversation (cnv_\w+)/.exec(chat.text)?.[1]);

/** Waits until the reply to user turn `number` is stored and the whole of it is on the chat's screen. */
async function replyShown(chat: Chat, server: () => string, apiKey: string, id: string, number: number) {
  return waitFor(`the reply to turn ${number} on screen`, async () => {
    let turns: Turn[];
    try {
      turns = await storedTurns(server(), apiKey, id);
    } catch {
      return undefined; // the server is restarting
    }
    const reply = turns.find((t) => t.number === number + 1 && t.role === 'assistant');
    return reply && chat.text.includes(reply.content) ? reply : undefined;
  });
}

/** Every user line once, in order, each answered by the reply that quotes it. */
function expectExchanges(turns: Turn[], lines: string[]) {
  expect(turns.map((t) => t.number)).toEqual(turns.map((_, i) => i + 1));
  expect(turns.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(lines);
  expect(turns.map((t) => t.role)).toEqual(lines.flatMap(() => ['user', 'assistant']));
  for (const [i, line] of lines.entries()) expect(turns[2 * i + 1]!.content).toContain(`"${line}"`);
}

describe('continuum chat against real server processes', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await stopAllServerProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-chat-'));
    dirs.push(dir);
    return dir;
  };

  it('streams replies through two restarts (one while the server is down when a line is sent) and past token expiry; every line is stored once, in order, with its reply', async () => {
    const dir = dataDir();
    const env = { CONTINUUM_ACCESS_TOKEN_TTL: '30', CONTINUUM_LOCAL_WORD_DELAY_MS: '5' };
    let server: ServerProcess = await startServerProcess({ dataDir: dir, env });
    const url = server.url;
    const samePort = { ...env, CONTINUUM_PORT: new URL(url).port };
    const { apiKey } = await tenantWithToken(url, 'chat-acceptance', SUBJECT);
    const lines = [
      'I take metformin 500 mg twice a day.',
      'I am allergic to penicillin.',
      'My mother had breast cancer.',
      'What do I take every day?',
    ];
    const chat = startChat(['--url', url, '--subject', SUBJECT, '--title', 'acceptance'], {
      CONTINUUM_API_KEY: apiKey,
    });
    const id = await conversationOf(chat);

    chat.say(lines[0]!);
    await replyShown(chat, () => url, apiKey, id, 1);

    // A restart while the chat is idle.
    await server.stop();
    server = await startServerProcess({ dataDir: dir, env: samePort });
    expect(server.url).toBe(url);
    chat.say(lines[1]!);
    await replyShown(chat, () => url, apiKey, id, 3);

    // The server is down when the next line is sent: the chat says so once, retries, and delivers it once.
    await server.stop();
    chat.say(lines[2]!);
    await waitFor('the chat to say the server is unreachable', () => chat.text.includes(`cannot reach ${url}`));
    await sleep(2000);
    server = await startServerProcess({ dataDir: dir, env: samePort });
    await replyShown(chat, () => url, apiKey, id, 5);
    expect(chat.count(`cannot reach ${url}`)).toBe(1);
    expect(chat.count(`${url} answers again`)).toBe(1);

    // Past the 30 s access token (and the 5 s clock tolerance): the chat refreshes and goes on.
    await sleep(37_000);
    chat.say(lines[3]!);
    await replyShown(chat, () => url, apiKey, id, 7);

    const conversationShown = chat.text;
    chat.say('/context');
    await waitFor('the working context', () => /medications: metformin 500 mg/.test(chat.text));
    expect(chat.text).toMatch(/allergies: penicillin/);
    expect(chat.text).toMatch(/prompt \d+ tokens of a \d+-token budget/);
    chat.say('/history 2');
    await waitFor('the history', () => chat.text.includes('#8 assistant:'));
    chat.end();
    expect(await chat.exit).toBe(0);
    expect(chat.err).toEqual([]);

    const turns = await storedTurns(url, apiKey, id);
    expectExchanges(turns, lines);
    // Each reply was shown once, whole (before /history showed the last ones again).
    for (const reply of turns.filter((t) => t.role === 'assistant')) {
      expect(conversationShown.split(reply.content)).toHaveLength(2);
    }
  }, 180_000);

  it.each([
    ['stopped (SIGTERM, no grace period): the server says reply_interrupted', 'stop'],
    ['killed (kill -9): the chat finds the reply missing after --reply-wait', 'kill'],
  ] as const)(
    'a restart in the middle of a reply, %s; the user is told the reply was lost, the message is stored once and the chat goes on',
    async (_how, end) => {
      const dir = dataDir();
      // Slow words, and no grace period: the stop cuts the reply off half-way.
      const env = { CONTINUUM_LOCAL_WORD_DELAY_MS: '150', CONTINUUM_SHUTDOWN_GRACE: '0' };
      let server = await startServerProcess({ dataDir: dir, env });
      const url = server.url;
      const { apiKey } = await tenantWithToken(url, `chat-mid-reply-${end}`, SUBJECT);
      const chat = startChat(['--url', url, '--api-key', apiKey, '--subject', SUBJECT, '--reply-wait', '2']);
      const id = await conversationOf(chat);

      const first = 'I take lisinopril 10 mg every morning.';
      chat.say(first);
      await waitFor('the reply to start streaming', () => chat.text.includes(`You said: "${first}"`));
      if (end === 'stop') await server.stop();
      else await server.kill9();
      server = await startServerProcess({ dataDir: dir, env: { ...env, CONTINUUM_PORT: new URL(url).port } });
      await waitFor('the chat to say the reply was lost', () => chat.text.includes('the reply was lost'));
      expect(chat.text).toContain('saved once, as turn 1');

      const second = 'What do I take in the morning?';
      chat.say(second);
      const reply = await replyShown(chat, () => url, apiKey, id, 2);
      chat.end();
      expect(await chat.exit).toBe(0);

      const turns = await storedTurns(url, apiKey, id);
      expect(turns.map((t) => [t.role, t.content])).toEqual([
        ['user', first],
        ['user', second],
        ['assistant', reply.content],
      ]);
      expect(chat.count('the reply was lost')).toBe(1);
      expect(chat.count(reply.content)).toBe(1);
    },
    120_000,
  );
});

describe('continuum chat against an in-process server', () => {
  let s: ClientTestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('a connection dropped mid-reply resumes where it stopped: the whole reply is shown once', async () => {
    s = await startServer({ config: { localWordDelayMs: 40 } });
    const proxy = await startProxy(s.port);
    try {
      const chat = startChat(['--url', proxy.url, '--api-key', s.apiKey, '--subject', SUBJECT, '--title', 'drop']);
      const id = await conversationOf(chat);
      const line = 'I take metformin 500 mg twice a day and aspirin 81 mg daily.';
      chat.say(line);
      await waitFor('the reply to start streaming', () => chat.text.includes(`You said: "${line}"`));
      proxy.dropAll();
      const reply = await replyShown(chat, () => s!.url, s.apiKey, id, 1);
      chat.end();
      expect(await chat.exit).toBe(0);
      expect(chat.count(reply.content)).toBe(1);
      expect(chat.text).not.toContain('lost');
      expect(proxy.connections).toBeGreaterThan(1);
      expectExchanges(await storedTurns(s.url, s.apiKey, id), [line]);
    } finally {
      await proxy.close();
    }
  });

  it('opens an existing conversation with its last turns, and /help, /info and unknown commands answer', async () => {
    s = await startServer({ config: { localWordDelayMs: 0 } });
    const first = startChat(['--url', s.url, '--api-key', s.apiKey, '--subject', SUBJECT]);
    const id = await conversationOf(first);
    first.say('I am allergic to penicillin.');
    first.say('/quit');
    expect(await first.exit).toBe(0);

    const again = startChat(['--url', s.url, '--api-key', s.apiKey, '--subject', SUBJECT, '--conversation', id]);
    again.say('/help');
    again.say('/info');
    again.say('/frobnicate');
    again.end();
    expect(await again.exit).toBe(0);
    expect(again.text).toContain(`conversation ${id}, 2 turns`);
    expect(again.text).toMatch(
      /the last 2 of 2 turns:\n#1 user: I am allergic to penicillin\.\n#2 assistant: You said/,
    );
    expect(again.text).toContain('/context           the working context');
    expect(again.text).toContain('unknown command /frobnicate');
  });

  it('exits 1 when the API key is refused or the conversation is not the subject’s, 2 on usage errors', async () => {
    s = await startServer();
    const refused = startChat(['--url', s.url, '--api-key', 'ck.nope', '--subject', SUBJECT]);
    expect(await refused.exit).toBe(1);
    expect(refused.err.join('\n')).toContain('the API key was refused (invalid_grant');

    const missing = startChat(['--url', s.url, '--api-key', s.apiKey, '--subject', SUBJECT, '--conversation', 'cnv_x']);
    expect(await missing.exit).toBe(1);
    expect(missing.err.join('\n')).toContain('no conversation cnv_x of subject');

    expect(await startChat(['--url', s.url, '--api-key', s.apiKey]).exit).toBe(2);
    expect(await startChat(['--url', s.url, '--subject', SUBJECT]).exit).toBe(2);
    expect(await startChat(['--url', 'ftp://x', '--api-key', 'k', '--subject', SUBJECT]).exit).toBe(2);
    expect(
      await startChat(['--api-key', 'k', '--subject', SUBJECT, '--conversation', 'cnv_x', '--title', 't']).exit,
    ).toBe(2);
  });
});
