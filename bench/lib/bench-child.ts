/**
 * A bench part's helper process (`child_process.fork` with an IPC channel),
 * asked one thing at a time: each request is answered by one message, or the
 * helper answers `{ type: 'failed', message }`.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';

export interface BenchChild<Request extends { type: string }, Reply extends { type: string }> {
  ask(request: Request): Promise<Reply>;
  /**
   * After `close` was asked, wait for the exit that follows (the helper may still be writing a CPU profile);
   * otherwise (a failed run) stop it at once. Killed if it does not go.
   */
  stop(): Promise<void>;
}

export type FailedReply = { type: 'failed'; message: string };

/** Start `file` (a TypeScript module) with `execArgs` added to its Node options. */
export function forkBenchChild<Request extends { type: string }, Reply extends { type: string }>(
  name: string,
  file: string,
  execArgs: readonly string[] = [],
): BenchChild<Request, Reply> {
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx', ...execArgs],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  let closing = false;
  return {
    async ask(request) {
      if (request.type === 'close') closing = true;
      const answer = Promise.race([
        once(child, 'message').then(([reply]) => reply as Reply | FailedReply),
        exited.then(([code]): FailedReply => ({ type: 'failed', message: `it exited (${String(code)})` })),
      ]);
      child.send(request);
      const reply = await answer;
      if (reply.type === 'failed') throw new Error(`${name}: ${(reply as FailedReply).message}`);
      return reply as Reply;
    },
    async stop() {
      const timers = [
        setTimeout(() => child.kill('SIGTERM'), closing ? 10_000 : 0),
        setTimeout(() => child.kill('SIGKILL'), 20_000),
      ];
      await exited;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

/**
 * The helper's side: answer each request from the parent with `handle`'s reply (a failure as `failed`).
 * `close` is answered here: `cleanUp`, then `closed`, then exit (a clean exit writes a CPU profile when one
 * was asked for). A parent that stops the helper before `close` (its run failed) gets `cleanUp` too.
 */
export function serveBenchParent<Request extends { type: string }, Reply extends { type: string }>(
  handle: (request: Exclude<Request, { type: 'close' }>) => Promise<Reply>,
  cleanUp: () => Promise<void>,
): void {
  process.on('SIGTERM', () => {
    cleanUp().finally(() => process.exit(1));
  });
  process.on('message', (request: Request) => {
    const closing = request.type === 'close';
    const answer = closing
      ? cleanUp().then(() => ({ type: 'closed' }))
      : handle(request as Exclude<Request, { type: 'close' }>);
    answer.then(
      (reply) =>
        process.send?.(reply, () => {
          if (closing) process.exit(0);
        }),
      (error: unknown) =>
        process.send?.({
          type: 'failed',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies FailedReply),
    );
  });
}
