// The background WAL checkpointer's thread (see checkpointer.ts). Plain JavaScript: a worker thread does not
// inherit the TypeScript loader of the main thread. It holds its own connection to the database file and runs
// a PASSIVE checkpoint each time it is asked: pages are copied from the WAL into the database and both are
// synced here, so the main thread's event loop never waits for that I/O. PASSIVE never blocks writers or
// readers; what it cannot copy yet is copied by a later run.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** The database, opened as a plain Error on failure: better-sqlite3's own errors reach the main thread without their message. */
function open(filename) {
  try {
    return new Database(filename, { fileMustExist: true });
  } catch (error) {
    const code = error && typeof error === 'object' && 'code' in error ? ` (${error.code})` : '';
    throw new Error(`cannot open ${filename}: ${error instanceof Error ? error.message : String(error)}${code}`);
  }
}

const db = open(workerData.filename);

parentPort.on('message', (message) => {
  if (message.type === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  const started = performance.now();
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({
      type: 'checkpointed',
      busy: row.busy,
      log: row.log,
      checkpointed: row.checkpointed,
      ms: performance.now() - started,
    });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
