import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { MASTER_KEY_FILE } from '../../src/server/runtime.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { buildSource, type Source } from '../transfer/fixtures.ts';

function capture(env: Record<string, string> = {}, extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env, out: (l) => out.push(l), err: (l) => err.push(l), ...extra };
  return { io, out, err };
}

/** A fresh data dir holding a copy of the source's master key (the import needs the same key). */
function targetDir(source: Source): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-cli-transfer-'));
  copyFileSync(path.join(source.t.dataDir, MASTER_KEY_FILE), path.join(dir, MASTER_KEY_FILE));
  return dir;
}

describe('continuum export / import', () => {
  let source: Source;
  const dirs: string[] = [];
  const scratch = (dir: string) => {
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    source = await buildSource();
  });
  afterAll(async () => {
    await source?.t.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints help for both and exits 2 on usage errors', async () => {
    for (const command of ['export', 'import']) {
      const c = capture();
      expect(await main([command, '--help'], c.io)).toBe(0);
      expect(c.out.join('\n')).toContain(`continuum ${command}`);
    }
    expect(await main(['import'], capture().io)).toBe(2);
    expect(await main(['import', '--in', '-'], capture().io)).toBe(2);
    expect(await main(['export', '--tenant', 'acme'], capture().io)).toBe(2);
    expect(await main(['export', '--bogus'], capture().io)).toBe(2);
  });

  it('export --out writes a 0600 file that import reads into a fresh store; audit verify passes there; a second import is refused', async () => {
    const file = path.join(scratch(mkdtempSync(path.join(tmpdir(), 'continuum-cli-export-'))), 'all.ndjson');
    const exported = capture({ CONTINUUM_DATA_DIR: source.t.dataDir });
    expect(await main(['export', '--out', file], exported.io), exported.err.join('\n')).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(exported.err.join('\n')).toMatch(/^exported 1 tenant: 2 conversations, \d+ turns, \d+ audit events to /);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)).toMatch(/^\{"type":"end"/);

    const dir = scratch(targetDir(source));
    const imported = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['import', '--in', file], imported.io), imported.err.join('\n')).toBe(0);
    expect(imported.out.join('\n')).toMatch(/^imported 1 tenant from a sqlite export of \S+: 2 conversations/);

    const verified = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['audit', 'verify'], verified.io)).toBe(0);
    expect(verified.out.join('\n')).toContain(`${source.tenantId}: ok`);
    expect(verified.out.join('\n')).toContain('tnt_system: ok');

    const again = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['import', '--in', file], again.io)).toBe(1);
    expect(again.err.join('\n')).toMatch(/^continuum import: line \d+: tenant \S+ \(.+\) already exists on the target/);

    const t = await buildTestApp({ dataDir: dir });
    try {
      const token = (await t.token(source.apiKey, source.subject)).access_token;
      const made = source.conversations[0]!;
      const res = await t.request({ method: 'GET', url: `/v1/conversations/${made.id}/turns`, token });
      expect(res.json().items).toEqual(made.turns);
      // The import signed a checkpoint over the imported chain with the target's own key.
      expect(await t.services.store.listAuditCheckpoints(source.tenantId)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('export --tenant to stdout, import from stdin', async () => {
    const exported = capture({ CONTINUUM_DATA_DIR: source.t.dataDir });
    expect(await main(['export', '--tenant', source.tenantId, '--quiet'], exported.io)).toBe(0);
    expect(exported.err).toEqual([]);
    expect(JSON.parse(exported.out[0]!)).toMatchObject({ tenants: [source.tenantId], system: false });

    const dir = scratch(targetDir(source));
    const stdin = Readable.from(exported.out.map((line) => `${line}\n`));
    const imported = capture({ CONTINUUM_DATA_DIR: dir }, { stdin });
    expect(await main(['import', '--in', '-'], imported.io), imported.err.join('\n')).toBe(0);
    expect(imported.out.join('\n')).toMatch(/^imported 1 tenant from/);
  });

  it('import of a truncated file exits 1 saying so; a missing file exits 1', async () => {
    const exported = capture({ CONTINUUM_DATA_DIR: source.t.dataDir });
    expect(await main(['export', '--tenant', source.tenantId, '--quiet'], exported.io)).toBe(0);
    const dir = scratch(targetDir(source));
    const file = path.join(dir, 'cut.ndjson');
    writeFileSync(file, `${exported.out.slice(0, -1).join('\n')}\n`);
    const imported = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['import', '--in', file], imported.io)).toBe(1);
    expect(imported.err.join('\n')).toMatch(/truncated/);
    const missing = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['import', '--in', path.join(dir, 'nope.ndjson')], missing.io)).toBe(1);
    expect(missing.err.join('\n')).toMatch(/ENOENT/);
  });
});
