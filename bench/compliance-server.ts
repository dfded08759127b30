/**
 * The HTTP side of bench/compliance-cost.ts: `continuum serve` as
 * src/cli/commands/serve.ts wires it (settings from CONTINUUM_* variables),
 * with encryption and audit either as production builds them ("on") or
 * replaced by the benchmark-only baselines ("off").
 *
 *   node --import tsx bench/compliance-server.ts <on|off>
 */
import { loadConfig } from '../src/config/index.ts';
import { buildApp } from '../src/server/app.ts';
import { openKeyProvider, openStore, resolveAdminToken } from '../src/server/runtime.ts';
import { createPlaintextCipher, SilentAuditTrail } from './lib/compliance-baselines.ts';

const variant = process.argv[2];
if (variant !== 'on' && variant !== 'off') throw new TypeError('usage: compliance-server.ts <on|off>');

const config = loadConfig(process.env);
const store = await openStore(config);
await store.migrate();
const admin = await resolveAdminToken(config.adminToken, config.dataDir);
const keyProvider = await openKeyProvider(config);
const { app } = await buildApp(config, {
  store,
  keyProvider,
  adminToken: admin.token,
  ...(variant === 'off'
    ? { cipher: createPlaintextCipher(), auditTrail: (options) => new SilentAuditTrail(options) }
    : {}),
});
const address = await app.listen({ host: config.host, port: config.port });
process.stdout.write(`compliance server (${variant}) listening on ${address}\n`);

const stop = () => {
  void app
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
