import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { rewrapAllDataKeys } from '../../crypto/data-keys.ts';
import { rotateLocalMasterKey } from '../../crypto/local-key-provider.ts';
import { MASTER_KEY_FILE, openCore, openKeyProvider } from '../../server/runtime.ts';
import { type CliIo, UsageError } from '../io.ts';

export const keysHelp = `continuum keys <rotate|rotate-signing>

  rotate           make a new master key current and re-wrap every tenant data
                   key under it (local key file; with KMS, re-wrap under
                   CONTINUUM_KMS_KEY_ID). Safe while servers run: the data keys
                   themselves do not change, and old master keys are kept so
                   nothing in flight fails. Not possible with
                   CONTINUUM_MASTER_KEY (a single key from the environment).
  rotate-signing   start signing access tokens and audit checkpoints with a new
                   Ed25519 key; tokens signed by the old key stay valid until
                   they expire. Running servers sign with the new key within
                   a minute, and verify its tokens at once.`;

export async function keys(args: string[], io: CliIo): Promise<number> {
  const [action] = args;
  const config = loadConfig(io.env);
  if (action === 'rotate') {
    if (config.keyProvider === 'local') {
      if (config.masterKey !== undefined) {
        throw new UsageError('CONTINUUM_MASTER_KEY holds a single key; rotate by moving to a key file or KMS');
      }
      const rotated = await rotateLocalMasterKey(path.resolve(config.dataDir, MASTER_KEY_FILE));
      io.out(`master key rotated: ${rotated.previous} -> ${rotated.current}`);
    }
    const core = await openCore(config);
    try {
      const keyProvider = await openKeyProvider(config);
      const result = await rewrapAllDataKeys({
        keys: keyProvider,
        repository: core.store,
        onProgress: (done, total) => io.err(`re-wrapped ${done}/${total} data keys`),
      });
      io.out(`data keys re-wrapped: ${result.rewrapped}, already current: ${result.skipped}`);
      return 0;
    } finally {
      await core.store.close();
    }
  }
  if (action === 'rotate-signing') {
    const core = await openCore(config);
    try {
      const { previous, current } = await core.keyring.rotate();
      io.out(`signing key rotated: ${previous} -> ${current}`);
      return 0;
    } finally {
      await core.store.close();
    }
  }
  throw new UsageError(`unknown keys action ${JSON.stringify(action ?? '')}`);
}
