import { loadConfig, unknownSettings } from '../../config/index.ts';
import { buildApp } from '../../server/app.ts';
import { openKeyProvider, openStore, resolveAdminToken } from '../../server/runtime.ts';
import { type CliIo, UsageError } from '../io.ts';

export const serveHelp = `continuum serve

Start the HTTP server with the settings in the environment (see the README's
settings table). Migrations run at start. On first start without
CONTINUUM_ADMIN_TOKEN, an operator token is generated, stored in
<data dir>/admin-token (mode 0600) and printed once.

Stops cleanly on SIGINT or SIGTERM.`;

export async function serve(args: string[], io: CliIo): Promise<number> {
  if (args.length > 0)
    throw new UsageError(`serve takes no arguments (settings come from CONTINUUM_* variables); got ${args.join(' ')}`);
  const config = loadConfig(io.env);
  for (const name of unknownSettings(io.env)) io.err(`warning: ${name} is not a setting of this version; ignored`);
  const store = await openStore(config);
  await store.migrate();
  const admin = await resolveAdminToken(config.adminToken, config.dataDir);
  if (admin.generated) {
    io.err(`Generated an operator token (stored in ${admin.file}); it is shown only this once:\n\n  ${admin.token}\n`);
  }
  const keyProvider = await openKeyProvider(config);
  const { app } = await buildApp(config, { store, keyProvider, adminToken: admin.token });
  const url = await app.listen({ host: config.host, port: config.port });
  app.log.info({ url, store: store.kind }, 'continuum listening');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.log.info({ signal }, 'continuum stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  await store.close();
  return 0;
}
