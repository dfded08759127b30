import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AuditTrail } from '../../audit/audit-trail.ts';
import { operatorActor } from '../../audit/events.ts';
import { SigningKeyring } from '../../auth/signing-keys.ts';
import { type Config, loadConfig } from '../../config/index.ts';
import { systemClock } from '../../core/clock.ts';
import { openKeyProvider, openStore } from '../../server/runtime.ts';
import type { Store } from '../../store/port.ts';
import { importStream } from '../../transfer/import.ts';
import { readLines } from '../../transfer/lines.ts';
import { type CliIo, UsageError } from '../io.ts';
import { createProgress, plural } from '../progress.ts';

export const importHelp = `continuum import --in <file>|- [--quiet]

Read a \`continuum export\` file into the configured store. Every record is
checked and every hash chain verified as it is read (each conversation's turns
against their hashes, each audit chain and its signed checkpoints); the import
stops at the first bad line, naming it. Refused: a store whose session-id
secret differs (import before the target first serves), a tenant or
conversation that already exists, a master key that cannot unwrap the data
keys (use the source's key file, CONTINUUM_MASTER_KEY or KMS key), and a file
without its end record (truncated).

  --in <file>   the export file; - reads stdin
  --quiet       no progress on stderr

Records are written as they are read, each conversation atomically: a failed
import leaves what was written before the failing line. The target signs a
fresh checkpoint over each imported audit chain and records the import in it
(import.create). The system chain is imported only into a store that has none
yet.`;

// Checkpoints need the store's signing key, created on first use: only after the
// system chain (which comes first in the file) has been imported into an empty store.
function lazyTrail(store: Store, config: Config): () => Promise<AuditTrail> {
  let trail: Promise<AuditTrail> | undefined;
  return () => {
    trail ??= (async () => {
      const keyring = new SigningKeyring({ store, clock: systemClock });
      await keyring.init();
      return new AuditTrail({
        store,
        clock: systemClock,
        keyring,
        checkpointEvery: config.auditCheckpointEvery,
        checkpointIntervalMs: config.auditCheckpointInterval * 1000,
      });
    })();
    return trail;
  };
}

/** `continuum import`: read an export file into the configured store, verifying it as it goes. */
export async function importCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { in: { type: 'string' }, quiet: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.in === undefined) throw new UsageError('--in is required (a file, or - for stdin)');
  if (values.in === '-' && !io.stdin) throw new UsageError('--in -: there is no stdin to read');
  const config = loadConfig(io.env);
  // Opened before the store, so a missing file fails without touching it.
  const handle = values.in === '-' ? null : await open(values.in, 'r');
  const input = (handle ? handle.createReadStream({ autoClose: false }) : io.stdin!) as AsyncIterable<Buffer | string>;
  const progress = createProgress({
    label: 'import',
    line: io.err,
    quiet: values.quiet,
    ...(io.stderr ? { stream: io.stderr } : {}),
  });
  let store: Store | undefined;
  try {
    store = await openStore(config);
    await store.migrate();
    const keyProvider = await openKeyProvider(config);
    const trail = lazyTrail(store, config);
    const result = await importStream(store, readLines(input), {
      keyProvider,
      actor: operatorActor(),
      onProgress: (p) => progress.update(p),
      afterChain: async (tenantId) => {
        await (await trail()).checkpoint(tenantId);
      },
    });
    progress.finish();
    const c = result.counts;
    io.out(
      `imported ${plural(result.tenants.length, 'tenant')} from a ${result.source} export of ${result.exportedAt}: ` +
        `${plural(c.conversations, 'conversation')}, ${plural(c.turns, 'turn')}, ${plural(c.auditEvents, 'audit event')}`,
    );
    if (result.systemChain === 'skipped') {
      io.err(
        'the system audit chain (tnt_system) in the file verified, but was not imported: this store already has ' +
          'its own; keep the export file as its record',
      );
    }
    return 0;
  } finally {
    progress.finish();
    await handle?.close();
    await store?.close();
  }
}
