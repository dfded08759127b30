import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { type ContinuumClient, type Conversation, createClient, isContinuumError } from '../../client/index.ts';
import { type CliIo, EXIT } from '../io.ts';
import { CHAT_BACKOFF, LinkMonitor, persist } from './link.ts';
import { describeError, type ReplyContext, sendMessage } from './reply.ts';
import { Screen } from './screen.ts';

/** What `continuum chat` was asked to do. */
export interface ChatOptions {
  /** The server's base URL. */
  url: string;
  apiKey: string;
  subject: string;
  /** Open this conversation; without it a new one is created. */
  conversationId?: string;
  /** Title of a new conversation. */
  title?: string;
  /** Turns shown when an existing conversation is opened. */
  historyTurns: number;
  /** See {@link ReplyContext.replyWaitMs}. */
  replyWaitMs: number;
}

export const CHAT_COMMANDS = `Commands:
  /help              this list
  /context           the working context: profile facts, summary, token budget
  /history [n|all]   the last n turns (default 20), or all of them
  /info              the conversation's id, title and turn
  /quit              leave (also /exit, or Ctrl-D)
A line starting with // is sent as a message starting with /.`;

/**
 * `continuum chat`: reads lines from `input`, appends each as a user turn
 * with `respond: true` and prints the reply as it streams; lines starting
 * with `/` are commands. It survives a server restart (idle or mid-reply)
 * and token expiry: the SDK renews tokens and resumes streams, and every
 * request that finds the server away is retried with backoff for as long as
 * it takes, said once on screen. Resolves with the exit code: 0 on `/quit`
 * or at the end of the input, 1 when the chat cannot start.
 *
 * @example
 * const code = await runChat(
 *   { url: 'http://127.0.0.1:8080', apiKey, subject: 'patient-42', historyTurns: 6, replyWaitMs: 20_000 },
 *   processIo,
 *   process.stdin,
 * );
 */
export async function runChat(options: ChatOptions, io: CliIo, input: NodeJS.ReadableStream): Promise<number> {
  const interactive = (input as { isTTY?: boolean }).isTTY === true;
  // Lines typed (or piped) while the chat starts or while a reply streams wait in the iterator's buffer.
  const rl = createInterface({
    input,
    ...(interactive && io.stdout ? { output: io.stdout, terminal: true } : { terminal: false }),
  });
  const lines = rl[Symbol.asyncIterator]();
  const screen = new Screen(io);
  const link = new LinkMonitor({
    url: options.url,
    onDown: (reason) =>
      screen.notice(
        `cannot reach ${options.url} (${reason}); retrying with backoff until it answers. What you type is kept.`,
      ),
    onUp: () => screen.notice(`${options.url} answers again`),
  });
  const client = createClient({
    baseUrl: options.url,
    apiKey: options.apiKey,
    subject: options.subject,
    fetch: link.fetch,
    backoff: CHAT_BACKOFF,
    onRefreshRejected: (error) =>
      screen.notice(`the refresh token was refused (${error.code}); signed in again with the API key`),
  });

  // Ctrl-C on a terminal stops what is running (a reply's display, a wait for the server), else ends the chat.
  let current: AbortController | undefined;
  rl.on('SIGINT', () => {
    if (current && !current.signal.aborted) current.abort(new Error('stopped'));
    else rl.close();
  });

  try {
    current = new AbortController();
    let conversation: Conversation;
    try {
      conversation = await open(client, options, screen, current.signal);
    } catch (error) {
      screen.close();
      io.err(`continuum chat: ${startFailure(error, options)}`);
      return EXIT.failure;
    }
    const chat = new ChatSession(client, conversation, screen, {
      client,
      conversationId: conversation.id,
      screen,
      link,
      replyWaitMs: options.replyWaitMs,
    });
    const prompt = () => {
      if (!interactive) return;
      rl.setPrompt(screen.paint('green', 'you> '));
      rl.prompt();
      screen.afterPrompt();
    };
    prompt();
    for (;;) {
      current = undefined;
      const next = await lines.next();
      if (next.done) break;
      current = new AbortController();
      if (interactive) screen.afterInput();
      // Piped lines are not echoed by a terminal: show them as the prompt would, so the transcript reads right.
      if (!interactive && next.value.trim() !== '') screen.line(`${screen.paint('green', 'you>')} ${next.value}`);
      if ((await chat.handle(next.value, current.signal)) === 'quit') break;
      prompt();
    }
    screen.close();
    return EXIT.ok;
  } finally {
    rl.close();
  }
}

/** Opens the conversation asked for (printing its last turns) or creates one. */
async function open(client: ContinuumClient, options: ChatOptions, screen: Screen, signal: AbortSignal) {
  if (options.conversationId === undefined) {
    // A keyed create lands on the same conversation when it has to be sent again.
    const created = await persist(
      () =>
        client.conversations.create({
          ...(options.title === undefined ? {} : { title: options.title }),
          clientKey: `continuum-chat-${randomUUID()}`,
          startedAt: new Date().toISOString(),
        }),
      signal,
    );
    screen.line(`${header(created)} (new)`);
    screen.line(
      screen.paint('dim', 'Type a message and press Enter; /help lists the commands, /quit or Ctrl-D leaves.'),
    );
    return created;
  }
  const id = options.conversationId;
  const conversation = await persist(() => client.conversations.get(id), signal);
  screen.line(header(conversation));
  const shown = Math.min(options.historyTurns, conversation.turn);
  if (shown > 0) {
    screen.line(screen.paint('dim', `the last ${shown} of ${conversation.turn} turns:`));
    const turns = await persist(
      () => client.turns.list(id, { after: conversation.turn - shown, limit: Math.min(shown, 500) }),
      signal,
    );
    for (const turn of turns) screen.turn(turn);
  }
  screen.line(screen.paint('dim', '/help lists the commands, /quit or Ctrl-D leaves.'));
  return conversation;
}

function header(conversation: Conversation): string {
  const title = conversation.title === null ? '' : ` "${conversation.title}"`;
  const closed = conversation.status === 'closed' ? ', closed (read-only)' : '';
  return `conversation ${conversation.id}${title}, ${conversation.turn} turns${closed}`;
}

function startFailure(error: unknown, options: ChatOptions): string {
  if (isContinuumError(error, 'invalid_grant')) return `the API key was refused (${describeError(error)})`;
  if (isContinuumError(error, 'not_found')) {
    return `no conversation ${options.conversationId} of subject ${options.subject} (${describeError(error)})`;
  }
  return describeError(error);
}

/** One open conversation: messages and slash commands, with the turn the next message follows. */
class ChatSession {
  #turn: number;

  constructor(
    readonly client: ContinuumClient,
    readonly conversation: Conversation,
    readonly screen: Screen,
    readonly reply: ReplyContext,
  ) {
    this.#turn = conversation.turn;
  }

  /** Handles one input line; `quit` ends the chat. */
  async handle(raw: string, signal: AbortSignal): Promise<'quit' | undefined> {
    const line = raw.trim();
    if (line === '') return undefined;
    try {
      if (line.startsWith('/') && !line.startsWith('//')) return await this.#command(line, signal);
      const outcome = await sendMessage(this.reply, line.startsWith('//') ? line.slice(1) : line, this.#turn, signal);
      this.#turn = outcome.result === 'failed' ? await this.#currentTurn(signal) : outcome.turn;
    } catch (error) {
      if (signal.aborted) this.screen.notice('stopped');
      else this.screen.error(describeError(error));
    }
    return undefined;
  }

  async #command(line: string, signal: AbortSignal): Promise<'quit' | undefined> {
    const [name, ...args] = line.split(/\s+/);
    const { client, screen } = this;
    const id = this.conversation.id;
    switch (name) {
      case '/quit':
      case '/exit':
        return 'quit';
      case '/help':
        for (const text of CHAT_COMMANDS.split('\n')) screen.line(text);
        return undefined;
      case '/context':
        screen.context(await persist(() => client.conversations.context(id), signal));
        return undefined;
      case '/info': {
        const conversation = await persist(() => client.conversations.get(id), signal);
        this.#turn = Math.max(this.#turn, conversation.turn);
        screen.line(header(conversation));
        return undefined;
      }
      case '/history':
        await this.#history(args[0], signal);
        return undefined;
      default:
        screen.error(`unknown command ${name}; /help lists them`);
        return undefined;
    }
  }

  async #history(arg: string | undefined, signal: AbortSignal): Promise<void> {
    const count = arg === undefined ? 20 : arg === 'all' ? Number.POSITIVE_INFINITY : Number(arg);
    if (!(count > 0) || (Number.isFinite(count) && !Number.isInteger(count))) {
      this.screen.error('/history takes a number of turns or "all"');
      return;
    }
    const id = this.conversation.id;
    const turn = await this.#currentTurn(signal);
    const after = Number.isFinite(count) ? Math.max(0, turn - count) : 0;
    const turns = await persist(async () => {
      const all = [];
      for await (const t of this.client.turns.all(id, { after, signal })) all.push(t);
      return all;
    }, signal);
    if (turns.length === 0) this.screen.line(this.screen.paint('dim', '(no turns yet)'));
    for (const t of turns) this.screen.turn(t);
  }

  /** The conversation's turn as stored (after a refusal, a rebase or a reply stored late). */
  async #currentTurn(signal: AbortSignal): Promise<number> {
    this.#turn = (await persist(() => this.client.conversations.get(this.conversation.id), signal)).turn;
    return this.#turn;
  }
}
