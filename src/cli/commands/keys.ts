import { SigningKeyring } from '../../auth/signing-keys.ts';
import { loadConfig } from '../../config/index.ts';
import { systemClock } from '../../core/clock.ts';
import { openStore } from '../../server/runtime.ts';
import { type CliIo, UsageError } from '../io.ts';

export const keysHelp = `continuum keys rotate-signing

  rotate-signing   start signing access tokens with a new Ed25519 key; tokens
                   signed by the old key stay valid until they expire. Running
                   servers pick the new key up when they first meet its kid.`;

export async function keys(args: string[], io: CliIo): Promise<number> {
  const [action] = args;
  if (action !== 'rotate-signing') throw new UsageError(`unknown keys action ${JSON.stringify(action ?? '')}`);
  const store = openStore(loadConfig(io.env));
  try {
    await store.migrate();
    const keyring = new SigningKeyring({ store, clock: systemClock });
    await keyring.init();
    const { previous, current } = await keyring.rotate();
    io.out(`signing key rotated: ${previous} -> ${current}`);
    return 0;
  } finally {
    await store.close();
  }
}
