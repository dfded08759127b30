import { loadConfig } from '../../config/index.ts';
import { openStore } from '../../server/runtime.ts';
import type { CliIo } from '../io.ts';

export const migrateHelp = `continuum migrate

Apply pending schema migrations to the configured store and print the schema
version before and after. Safe to run while servers are running and from
several machines at once.`;

export async function migrate(io: CliIo): Promise<number> {
  const store = await openStore(loadConfig(io.env));
  try {
    const { from, to } = await store.migrate();
    io.out(from === to ? `schema is current (version ${to})` : `migrated schema from version ${from} to ${to}`);
    return 0;
  } finally {
    await store.close();
  }
}
