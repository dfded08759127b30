import { loadConfig, unknownSettings } from '../../config/index.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { buildApp } from '../../server/app.ts';
import { CheckpointFailureRelay, openKeyProvider, openStore, resolveAdminToken } from '../../server/runtime.ts';
import { type CliIo, UsageError } from '../io.ts';

export const serveHelp = `continuum serve

Start the HTTP server with the settings in the environment (see the README's
settings table). Migrations run at start. On first start without
CONTINUUM_ADMIN_TOKEN, an operator token is generated, stored in
<data dir>/admin-token (mode 0600) and printed once.

Stops gracefully on SIGTERM or SIGINT: takes no new connections and answers
new requests 503, lets in-flight requests and replies finish for up to
CONTINUUM_SHUTDOWN_GRACE seconds, ends SSE streams with a resumable
"reconnect" event, then exits 0. A second signal stops at once (exit 1).`;

/** How long a stopped server may linger on handles nobody closed (an SDK's keep-alive socket) before it exits anyway. */
const EXIT_DEADLINE_MS = 1000;

export async function serve(args: string[], io: CliIo): Promise<number> {
  if (args.length > 0)
    throw new UsageError(`serve takes no arguments (settings come from CONTINUUM_* variables); got ${args.join(' ')}`);
  const config = loadConfig(io.env);
  for (const name of unknownSettings(io.env)) io.err(`warning: ${name} is not a setting of this version; ignored`);
  // One registry for the app and the store (the SQLite store's checkpoint figures).
  const metrics = createMetrics();
  // The SQLite store's checkpoint failures raise the `sqlite_checkpoints` alert once the app exists.
  const checkpointFailures = new CheckpointFailureRelay();
  const store = await openStore(config, { metrics, onCheckpointFailure: checkpointFailures.report });
  await store.migrate();
  const admin = await resolveAdminToken(config.adminToken, config.dataDir);
  if (admin.generated) {
    io.err(`Generated an operator token (stored in ${admin.file}); it is shown only this once:\n\n  ${admin.token}\n`);
  }
  const keyProvider = await openKeyProvider(config);
  const { app, services } = await buildApp(config, { store, keyProvider, adminToken: admin.token, metrics });
  checkpointFailures.listen(services.operations.checkpointFailed);
  const url = await app.listen({ host: config.host, port: config.port });
  app.log.info({ url, store: store.kind }, 'continuum listening');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  app.log.info({ signal, graceSeconds: config.shutdownGrace }, 'continuum stopping');
  const now = (second: NodeJS.Signals) => {
    app.log.warn({ signal: second }, 'continuum stopping at once: a second signal');
    process.exit(1);
  };
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  // app.close() drains (see buildApp): 503 for new requests, in-flight work finishes, SSE streams end resumably.
  await app.close();
  await store.close();
  app.log.info({ signal }, 'continuum stopped');
  setTimeout(() => process.exit(0), EXIT_DEADLINE_MS).unref();
  return 0;
}
