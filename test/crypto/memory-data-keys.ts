/**
 * TEST FIXTURE: an in-memory DataKeyRepository, the smallest faithful
 * implementation of the interface (copies buffers in and out, compare-and-set
 * rewrap). Store adapters implement the real thing.
 */
import type { DataKeyRecord, DataKeyRepository } from '../../src/crypto/data-keys.ts';

const copy = (record: DataKeyRecord): DataKeyRecord => ({ ...record, wrapped: Buffer.from(record.wrapped) });

export class MemoryDataKeyRepository implements DataKeyRepository {
  readonly #rows = new Map<string, DataKeyRecord>();
  /** How many times each method was called, for tests that count I/O. */
  readonly calls = { list: 0, insert: 0, rewrap: 0 };

  async listDataKeys(tenantId: string): Promise<DataKeyRecord[]> {
    this.calls.list += 1;
    await Promise.resolve();
    return [...this.#rows.values()].filter((row) => row.tenantId === tenantId).map(copy);
  }

  async insertDataKey(record: DataKeyRecord): Promise<boolean> {
    this.calls.insert += 1;
    await Promise.resolve();
    const id = `${record.tenantId}\u0000${record.version}`;
    if (this.#rows.has(id)) return false;
    this.#rows.set(id, copy(record));
    return true;
  }

  async rewrapDataKey(
    tenantId: string,
    version: number,
    expectedMasterKeyId: string,
    next: { masterKeyId: string; wrapped: Buffer },
  ): Promise<boolean> {
    this.calls.rewrap += 1;
    await Promise.resolve();
    const id = `${tenantId}\u0000${version}`;
    const row = this.#rows.get(id);
    if (!row || row.masterKeyId !== expectedMasterKeyId) return false;
    this.#rows.set(id, { ...row, masterKeyId: next.masterKeyId, wrapped: Buffer.from(next.wrapped) });
    return true;
  }

  async listTenantsWithDataKeys(): Promise<string[]> {
    await Promise.resolve();
    return [...new Set([...this.#rows.values()].map((row) => row.tenantId))];
  }

  /** Every stored row (copies), for assertions. */
  all(): DataKeyRecord[] {
    return [...this.#rows.values()].map(copy);
  }
}
