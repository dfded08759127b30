import { asTenantId } from '../../src/core/types.ts';
import { createSealedReplayStore } from '../../src/streaming/sealed-replay-store.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { describeReplayStore } from './replay-store-conformance.ts';

// The replay buffer as the server runs it: SQLite rows, event data sealed under each tenant's key.
describeReplayStore('sqlite (sealed)', async () => {
  const t = await buildTestApp();
  const [a, b] = await Promise.all([t.createTenant(), t.createTenant()]);
  return {
    store: createSealedReplayStore(t.services.store, t.services.cipher),
    tenants: [asTenantId(a.tenantId), asTenantId(b.tenantId)] as const,
    close: () => t.close(),
  };
});
