import { once } from 'node:events';
import { createWriteStream, fchmodSync, openSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { operatorActor } from '../../audit/events.ts';
import { isTenantId } from '../../auth/secrets.ts';
import { loadConfig } from '../../config/index.ts';
import { asTenantId } from '../../core/types.ts';
import { openStore } from '../../server/runtime.ts';
import { exportTenants } from '../../transfer/export.ts';
import { type CliIo, UsageError } from '../io.ts';
import { createProgress, plural } from '../progress.ts';

export const exportHelp = `continuum export [--tenant <id>]... [--out <file>|-] [--quiet]

Write tenants out of the configured store as NDJSON, for \`continuum import\`
into another store (e.g. from SQLite to PostgreSQL) or as a backup: the
session-id secret, each tenant with its API key hashes and wrapped data keys,
its conversations (turns still encrypted, with their hashes), context states,
stream events and its audit chain with its signed checkpoints, then an end
record with the counts. Without --tenant, every tenant and the system audit
chain (tnt_system).

  --tenant <id>   export this tenant; repeat for several (default: all)
  --out <file>    write to this file, created with mode 0600 (default, or -: stdout)
  --quiet         no progress on stderr

The file holds the session-id secret and the wrapped data keys: keep it like a
key file. Its content opens only with the same master key (key file,
CONTINUUM_MASTER_KEY or KMS key). Refresh tokens and signing keys are not
exported: users sign in again on the target, which signs with its own keys.
Each exported tenant's audit chain records the export (export.create).`;

/** A line sink over a writable stream that honours back-pressure. */
function streamSink(stream: NodeJS.WritableStream) {
  let buffer = '';
  const flush = async (): Promise<void> => {
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  return {
    write(line: string): Promise<void> | undefined {
      buffer += `${line}\n`;
      return buffer.length >= 64 * 1024 ? flush() : undefined;
    },
    flush,
  };
}

/** `continuum export`: stream tenants out of the configured store (see `src/transfer/format.ts`). */
export async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string', multiple: true },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const tenants = values.tenant ?? [];
  for (const tenant of tenants) {
    if (!isTenantId(tenant))
      throw new UsageError(`--tenant must be a tenant id like tnt_…, got ${JSON.stringify(tenant)}`);
  }
  const toFile = values.out !== undefined && values.out !== '-';
  const config = loadConfig(io.env);
  const store = await openStore(config);
  const progress = createProgress({
    label: 'export',
    line: io.err,
    quiet: values.quiet,
    ...(io.stderr ? { stream: io.stderr } : {}),
  });
  let file: ReturnType<typeof createWriteStream> | null = null;
  try {
    await store.migrate();
    if (toFile) {
      // Mode 0600 also when the file already existed: it holds a secret and wrapped keys.
      const fd = openSync(values.out!, 'w', 0o600);
      fchmodSync(fd, 0o600);
      file = createWriteStream(values.out!, { fd });
    }
    const sink = file ? streamSink(file) : io.stdout ? streamSink(io.stdout) : null;
    const counts = await exportTenants(store, {
      ...(tenants.length > 0 ? { tenantIds: tenants.map(asTenantId) } : {}),
      write: sink ? (line) => sink.write(line) : (line) => io.out(line),
      onProgress: (p) => progress.update(p),
      actor: operatorActor(),
    });
    await sink?.flush();
    if (file)
      await new Promise<void>((resolve, reject) =>
        file!.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    file = null;
    progress.finish();
    if (!values.quiet) {
      io.err(
        `exported ${plural(counts.tenants, 'tenant')}: ${plural(counts.conversations, 'conversation')}, ` +
          `${plural(counts.turns, 'turn')}, ${plural(counts.auditEvents, 'audit event')}${toFile ? ` to ${values.out}` : ''}`,
      );
    }
    return 0;
  } catch (error) {
    progress.finish();
    if (file) {
      // A partial export is useless (its end record is missing) and holds secrets.
      file.destroy();
      rmSync(values.out!, { force: true });
    }
    throw error;
  } finally {
    await store.close();
  }
}
