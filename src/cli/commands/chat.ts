import { parseArgs } from 'node:util';
import { CHAT_COMMANDS, runChat } from '../chat/session.ts';
import { type CliIo, EXIT, UsageError } from '../io.ts';
import { apiKeyOption, DEFAULT_URL, positiveNumber, urlOption } from '../options.ts';

export const chatHelp = `continuum chat [--url <base>] [--api-key <key>] --subject <subject> [--conversation <id> | --title <title>] [--history <n>] [--reply-wait <seconds>]

An interactive chat in the terminal with a running server: each line you type
is appended as a user turn and the model's reply is printed as it streams.
Opening an existing conversation prints its last turns first.

${CHAT_COMMANDS}

It keeps going through a restart of the server and past token expiry:
tokens are refreshed as they come due (or after a 401), a reply whose
connection drops resumes where it stopped, and while the server cannot be
reached the chat says so once and retries with backoff until it answers.
A message is written once, whatever happens (its Idempotency-Key goes with
every retry). If the server stops while it is writing a reply, that reply is
lost: the chat says so, and the message stays saved without an answer.

Lines can be piped (stdin need not be a terminal); colour is used only when
stdout is a terminal and NO_COLOR is unset.

  --url            the server's base URL (default ${DEFAULT_URL})
  --api-key        the tenant's API key (default: the CONTINUUM_API_KEY environment variable)
  --subject        who you speak as, e.g. patient-42
  --conversation   open this conversation (cnv_…) of the subject
  --title          the title of a new conversation (without --conversation)
  --history        turns shown when an existing conversation opens (default 6)
  --reply-wait     after a reply's connection dropped and the server answers
                   again, seconds to wait for more of it before checking
                   whether it was lost (default 20)

Exit codes: 0 after /quit or the end of the input (Ctrl-D), 1 when the chat
cannot start (API key refused, no such conversation), 2 usage error.`;

/** `continuum chat`: see {@link chatHelp}; lines come from `io.stdin`. */
export async function chat(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      subject: { type: 'string' },
      conversation: { type: 'string' },
      title: { type: 'string' },
      history: { type: 'string' },
      'reply-wait': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`chat takes no arguments; got ${positionals.join(' ')}`);
  if (!values.subject) throw new UsageError('--subject is required');
  if (values.conversation !== undefined && values.title !== undefined) {
    throw new UsageError('--title names a new conversation; it cannot go with --conversation');
  }
  const history = values.history === undefined ? 6 : Number(values.history);
  if (!Number.isInteger(history) || history < 0) throw new UsageError('--history must be a whole number of turns');
  if (!io.stdin) {
    io.err('continuum chat: no input to read lines from');
    return EXIT.failure;
  }
  return runChat(
    {
      url: urlOption(values.url),
      apiKey: apiKeyOption(values['api-key'], io),
      subject: values.subject,
      ...(values.conversation === undefined ? {} : { conversationId: values.conversation }),
      ...(values.title === undefined ? {} : { title: values.title }),
      historyTurns: history,
      replyWaitMs: positiveNumber('--reply-wait', values['reply-wait'], 20) * 1000,
    },
    io,
    io.stdin,
  );
}
