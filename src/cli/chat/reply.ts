import { type ContinuumClient, ContinuumError, type ReplyStream, type Turn } from '../../client/index.ts';
import { CHAT_BACKOFF, type LinkMonitor } from './link.ts';
import type { Screen } from './screen.ts';

/** What one message needs from its chat. */
export interface ReplyContext {
  client: ContinuumClient;
  conversationId: string;
  screen: Screen;
  link: LinkMonitor;
  /**
   * After a reply's connection dropped and the server answers again, how
   * long to wait for more of the reply before asking the server whether it
   * was lost (the node writing it stopped), in ms.
   */
  replyWaitMs: number;
  /** How often that is checked, in ms (default 1000). */
  checkEveryMs?: number;
}

/** How a message ended. */
export interface SendOutcome {
  /** The conversation's turn as far as the chat knows after the message: the next append follows it. */
  turn: number;
  /** `replied`: the reply streamed to its end; `failed`: the server refused it or the reply failed; `lost`: saved without a reply; `stopped`: the user stopped following it. */
  result: 'replied' | 'failed' | 'lost' | 'stopped';
}

/** Why the chat stopped following a reply (the reason of its abort). */
class StopFollowing {
  constructor(readonly why: 'lost' | 'stored' | 'user') {}
}

/**
 * Appends `content` as a user turn with `respond: true` and prints the reply
 * as it streams. The SDK resumes a dropped stream (with the same
 * `Idempotency-Key`, so the message is written once) for as long as it
 * takes; the chat only adds the case it cannot see: a reply whose node
 * stopped mid-way is never finished by anyone, so once the server answers
 * again and the reply stays silent for `replyWaitMs`, the stored turns are
 * read. A reply stored meanwhile is shown; otherwise the user is told the
 * message is saved and its reply lost, and nothing is sent again.
 *
 * `stop` (Ctrl-C) ends the display only: the server still finishes and
 * stores the reply.
 */
export async function sendMessage(
  ctx: ReplyContext,
  content: string,
  expectedTurn: number,
  stop: AbortSignal,
): Promise<SendOutcome> {
  const { client, conversationId, screen } = ctx;
  const follow = new AbortController();
  const onStop = () => follow.abort(new StopFollowing('user'));
  stop.addEventListener('abort', onStop, { once: true });
  let lastSign = Date.now();
  let stored: Turn | undefined;
  const reply: ReplyStream = client.turns.append(conversationId, {
    role: 'user',
    content,
    expectedTurn,
    respond: true,
    stream: true,
    onConflict: 'rebase',
    onRebase: ({ missed }) => {
      showMissed(screen, missed);
      return true;
    },
    maxReconnects: Number.POSITIVE_INFINITY,
    backoff: CHAT_BACKOFF,
    signal: follow.signal,
    onQueued: (position) => screen.notice(`waiting for a free reply stream (place ${position} in the queue)`),
  });

  let checking = false;
  const check = async () => {
    const userTurn = reply.turn;
    if (checking || follow.signal.aborted || userTurn === undefined || reply.reconnects === 0 || !ctx.link.up) return;
    if (Date.now() - Math.max(lastSign, ctx.link.upSince) < ctx.replyWaitMs) return;
    checking = true;
    try {
      const after = await client.turns.list(conversationId, { after: userTurn.number, limit: 100 });
      stored = after.find((t) => t.role === 'assistant');
      follow.abort(new StopFollowing(stored ? 'stored' : 'lost'));
    } catch {
      // The server went away again: the next check asks again.
    } finally {
      checking = false;
    }
  };
  const checker = setInterval(() => void check(), ctx.checkEveryMs ?? 1000);

  const printer = replyPrinter(screen);
  try {
    for await (const event of reply) {
      lastSign = Date.now();
      switch (event.event) {
        case 'delta':
          printer.write(event.data.text);
          break;
        case 'done':
          printer.end();
          return { turn: event.data.number, result: 'replied' };
        case 'error': {
          printer.end();
          const problem = event.data;
          // A stopping server cut the reply off and said so: the same outcome as a reply found lost, told at once.
          if (problem.code === 'reply_interrupted')
            return ended(ctx, new StopFollowing('lost'), reply, undefined, '', expectedTurn);
          screen.error(
            `the reply failed (${problem.code}: ${problem.detail}); your message is saved as turn ${reply.turn?.number ?? '?'}`,
          );
          return { turn: reply.turn?.number ?? expectedTurn, result: 'failed' };
        }
        case 'escalation':
          printer.end();
          screen.notice(`this message was flagged: ${event.data.intent}`);
          break;
        default:
          // `turn` (the saved message), `reconnect` (a stopping server) and others need no words.
          break;
      }
    }
    // Not reached: a reply stream ends with `done` or `error`, or throws (an abort among others).
    printer.end();
    return { turn: reply.turn?.number ?? expectedTurn, result: 'failed' };
  } catch (error) {
    printer.end();
    const reason = follow.signal.aborted ? follow.signal.reason : undefined;
    if (reason instanceof StopFollowing) return ended(ctx, reason, reply, stored, printer.shown, expectedTurn);
    screen.error(describeError(error));
    return { turn: expectedTurn, result: 'failed' };
  } finally {
    clearInterval(checker);
    stop.removeEventListener('abort', onStop);
  }
}

function ended(
  ctx: ReplyContext,
  reason: StopFollowing,
  reply: ReplyStream,
  stored: Turn | undefined,
  shown: string,
  expectedTurn: number,
): SendOutcome {
  const { screen } = ctx;
  const userTurn = reply.turn?.number;
  switch (reason.why) {
    case 'user':
      screen.notice(
        userTurn === undefined
          ? 'stopped before the server confirmed the message; /history shows whether it was saved'
          : 'stopped showing the reply; the server still finishes and saves it (/history shows it)',
      );
      return { turn: userTurn ?? expectedTurn, result: 'stopped' };
    case 'stored': {
      // The reply was finished and stored while its events could not reach us: show what was not shown.
      const reply = stored!;
      if (shown !== '' && reply.content.startsWith(shown)) {
        screen.text(`${screen.paint('dim', '… ')}${reply.content.slice(shown.length)}`);
      } else {
        screen.text(`${screen.label('assistant')} ${reply.content}`);
      }
      screen.endLine();
      return { turn: reply.number, result: 'replied' };
    }
    case 'lost':
      screen.notice(
        `the server stopped while it was writing this reply, and the reply was lost: nothing of it was saved. ` +
          `Your message is saved once, as turn ${userTurn}, and will not be sent again; ask again for an answer.`,
      );
      return { turn: userTurn ?? expectedTurn, result: 'lost' };
  }
}

/** Writes a reply's deltas after an `assistant:` label; a notice in between makes it go on after `…`. */
function replyPrinter(screen: Screen) {
  let started = false;
  let mark = 0;
  let shown = '';
  return {
    get shown() {
      return shown;
    },
    write(text: string) {
      if (!started) {
        screen.endLine();
        screen.text(`${screen.label('assistant')} `);
        started = true;
      } else if (screen.mark !== mark) {
        screen.text(screen.paint('dim', '… '));
      }
      screen.text(text);
      shown += text;
      mark = screen.mark;
    },
    end() {
      if (started) screen.endLine();
      started = false;
    },
  };
}

/** Turns others wrote while this message waited to be appended. */
export function showMissed(screen: Screen, missed: readonly Turn[]): void {
  if (missed.length === 0) return;
  screen.line(screen.paint('dim', `meanwhile (${missed.length} turn${missed.length === 1 ? '' : 's'}):`));
  for (const turn of missed) screen.turn(turn);
}

/** `code: detail`, for a refusal the user should read. */
export function describeError(error: unknown): string {
  if (error instanceof ContinuumError) return `${error.code}: ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}
