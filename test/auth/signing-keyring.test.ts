import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SigningKeyring } from '../../src/auth/signing-keys.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/port.ts';

describe('SigningKeyring across nodes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function twoNodes(): Promise<[SigningKeyring, SigningKeyring]> {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-keyring-'));
    const stores: Store[] = [];
    for (let i = 0; i < 2; i++) {
      const store = createSqliteStore({ filename: path.join(dir, 'continuum.db') });
      await store.migrate();
      stores.push(store);
    }
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const store of stores) cleanups.push(() => store.close());
    const clock = new FakeClock(Date.parse('2026-11-26T00:00:00Z'));
    return [new SigningKeyring({ store: stores[0]!, clock }), new SigningKeyring({ store: stores[1]!, clock })];
  }

  it('a key made on one node is found on another right away, even just after that node reloaded', async () => {
    const [a, b] = await twoNodes();
    await b.init();
    await a.init();
    // A makes a key B has never seen, less than a second after B's last reload.
    const { current } = await a.rotate();
    await b.reload();
    const { current: newer } = await a.rotate();
    expect(newer).not.toBe(current);
    const found = await b.find(newer);
    expect(found?.kid).toBe(newer);
  });

  it('an unknown kid costs at most one store read a second, shared by concurrent lookups', async () => {
    const [a] = await twoNodes();
    await a.init();
    const reads = { count: 0 };
    const real = (a as unknown as { reload(): Promise<void> }).reload.bind(a);
    // Count the keyring's store reads: every reload is one `listSigningKeys`.
    (a as unknown as { reload(): Promise<void> }).reload = async () => {
      reads.count += 1;
      await real();
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => a.find('sk_forged')));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(reads.count).toBe(1);
    const again = await Promise.all(Array.from({ length: 20 }, () => a.find('sk_forged_too')));
    expect(again.every((r) => r === undefined)).toBe(true);
    expect(reads.count).toBe(2);
  });
});
