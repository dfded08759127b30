import { Worker } from 'node:worker_threads';

/**
 * Commits between two background checkpoints. SQLite's own automatic
 * checkpoint runs at 1,000 WAL pages; a group commit here writes a few to a
 * few dozen pages, so the WAL stays about as small as SQLite would keep it.
 */
export const CHECKPOINT_EVERY_COMMITS = 64;

/** What one background checkpoint did (SQLite's `PRAGMA wal_checkpoint` row), and how long it took. */
export interface CheckpointResult {
  /** 1 when another checkpoint held the checkpoint lock (nothing was done this time). */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames of it now copied into the database (the rest wait for readers still using them). */
  checkpointed: number;
  /** Time the checkpoint took on its thread, in ms. */
  ms: number;
}

export interface WalCheckpointerOptions {
  filename: string;
  /** Start a checkpoint every this many commits (default {@link CHECKPOINT_EVERY_COMMITS}). */
  everyCommits?: number;
  /**
   * Called once if the thread cannot start or dies: the caller hands checkpoints back to SQLite
   * (`wal_autocheckpoint`), so the WAL never grows without bound. No further checkpoint is started here.
   */
  fallback: (reason: string) => void;
  /** A checkpoint failed (a full disk, say); the next one is tried `everyCommits` commits later. */
  onFailure: (reason: string) => void;
  onCheckpoint?: (result: CheckpointResult) => void;
}

/** Counts commits and checkpoints the WAL on a thread of its own; see {@link startWalCheckpointer}. */
export interface WalCheckpointer {
  /** Count one commit; every `everyCommits`th starts a checkpoint unless one is running. */
  committed(): void;
  /** Stop the thread once its running checkpoint (if any) is done, closing its connection. */
  close(): Promise<void>;
}

type WorkerMessage =
  | ({ type: 'checkpointed' } & CheckpointResult)
  | {
      type: 'failed';
      message: string;
    };

/**
 * Keep WAL checkpoints off the event loop. SQLite's automatic checkpoint runs
 * inside the commit that crosses its threshold: it copies the WAL into the
 * database and syncs both, and the better-sqlite3 call that committed waits
 * for it, and with it every request this process serves (5–15 ms on a
 * virtual disk, once per few dozen commits). With automatic checkpoints
 * turned off on the main connection, this runs them on a worker thread with a
 * connection of its own: PASSIVE, so writers and readers never wait for it.
 * The thread starts at the first checkpoint, and does not keep the process
 * alive.
 */
export function startWalCheckpointer(options: WalCheckpointerOptions): WalCheckpointer {
  const every = options.everyCommits ?? CHECKPOINT_EVERY_COMMITS;
  if (!Number.isSafeInteger(every) || every < 1) throw new TypeError('everyCommits must be a positive integer');
  let worker: Worker | undefined;
  let exited: Promise<void> | undefined;
  let commits = 0;
  let running = false;
  let stopped = false;

  const giveUp = (reason: string) => {
    if (stopped) return;
    stopped = true;
    options.fallback(reason);
    void worker?.terminate();
  };

  const spawn = (): Worker => {
    const thread = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
      workerData: { filename: options.filename },
    });
    thread.unref();
    thread.on('message', (message: WorkerMessage) => {
      running = false;
      if (message.type === 'failed') return options.onFailure(`a WAL checkpoint failed: ${message.message}`);
      const { type: _, ...result } = message;
      options.onCheckpoint?.(result);
    });
    thread.on('error', (error) => giveUp(`the WAL checkpoint thread failed: ${error.message}`));
    exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    return thread;
  };

  return {
    committed() {
      if (stopped || ++commits < every || running) return;
      commits = 0;
      running = true;
      worker ??= spawn();
      worker.postMessage({ type: 'checkpoint' });
    },

    async close() {
      const thread = worker;
      stopped = true;
      if (!thread) return;
      // Held open until the thread has closed its connection: the caller closes the last one after it.
      thread.ref();
      // Messages are handled in order: a checkpoint already asked for runs to its end before the close.
      thread.postMessage({ type: 'close' });
      await exited;
    },
  };
}
