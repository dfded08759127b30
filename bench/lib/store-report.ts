import type { StoreFigures } from '../store-compare.ts';
import { int, ms, table, times } from './markdown.ts';

/** One row per store: appends (one writer, and concurrent writers) and warm state load. */
export function storesTable(figures: StoreFigures[]): string {
  const sqlite = figures.find((f) => f.store === 'sqlite' && f.skipped === undefined);
  return table(
    [
      'store',
      'append p50 ms',
      'append p99 ms',
      'appends/s (1 writer)',
      'appends/s (concurrent)',
      'state load p50 ms',
      'state load p99 ms',
      'state load p50 ÷ SQLite',
    ],
    figures.map((f) =>
      f.skipped !== undefined
        ? [f.store, `skipped: ${f.skipped}`, '', '', '', '', '', '']
        : [
            f.store === 'dynamodb' ? 'dynamodb (dynalite)' : f.store,
            ms(f.sequentialAppend!.p50),
            ms(f.sequentialAppend!.p99),
            int(f.sequentialAppend!.perSecond),
            int(f.concurrentAppendsPerSecond!),
            ms(f.stateLoad!.p50),
            ms(f.stateLoad!.p99),
            sqlite?.stateLoad ? times(f.stateLoad!.p50 / sqlite.stateLoad.p50) : '',
          ],
    ),
  );
}

/** The README section. */
export function storesSection(figures: StoreFigures[], params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>;
  return [
    `The same work on each store, one after the other in one run, in-process through the real service layer (\`ConversationService\`: encryption, hash chain, audit events written with each change): a conversation of ${String(p['turns'])} turns appended by one writer, one turn at a time (per-append latency); then ${String(p['concurrentConversations'])} writers at once, ${String(p['concurrentAppends'])} appends each to a conversation of its own; then ${String(p['warmIterations'])} warm state loads of the long conversation (the conversation plus its ${String(p['recentTurns'])} most recent turns) after ${String(p['warmupIterations'])} untimed ones. SQLite is a temp file in WAL mode; PostgreSQL is the local server (\`CONTINUUM_TEST_DATABASE_URL\`, a fresh schema, pool of 20); DynamoDB is dynalite in-process on loopback — a real implementation of the DynamoDB API but a JavaScript one over an in-memory LevelDB, so its row says what the adapter costs (requests, transactions, conditional writes), not what the AWS service's latency would be.`,
    '',
    storesTable(figures),
  ].join('\n');
}
