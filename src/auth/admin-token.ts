import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The operator token: the setting if given; else the one generated on an
 * earlier start (`<data dir>/admin-token`, mode 0600); else a new one,
 * written there. `generated` tells the caller to print it, once.
 */
export async function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): Promise<{ token: string; generated: boolean; file?: string }> {
  if (configured !== undefined) return { token: configured, generated: false };
  const file = path.resolve(dataDir, ADMIN_TOKEN_FILE);
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      throw new Error(`${file} is readable by other users; run: chmod 600 ${file}`);
    }
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length < 16) throw new Error(`${file} does not hold a token; delete it to generate a new one`);
    return { token, generated: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const token = `cat_${randomBytes(32).toString('base64url')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { token, generated: true, file };
}
