import type { TenantId } from '../../../src/core/types.ts';
import type { Store } from '../../../src/store/port.ts';

/** How a store adapter's test file hands its backend to the conformance suite. */
export interface StoreFactory {
  /**
   * Open a store on the shared test database (migrated). Calling it twice gives two independent clients of the
   * SAME database (like two nodes).
   */
  open(): Promise<Store>;
  /** Drop everything the factory created (called once after all tests). */
  destroy(): Promise<void>;
  /**
   * Try to UPDATE or DELETE an audit row behind the adapter's back, with the raw driver; must reject. Omit when
   * the backend cannot enforce it (the suite then records it as skipped with the reason).
   */
  tamperAudit?(tenantId: TenantId, seq: number): Promise<void>;
}

/** What every part of the suite works with: two clients of one database. */
export interface SuiteContext {
  readonly factory: StoreFactory;
  /** The first client (node A). */
  readonly store: Store;
  /** A second, independent client of the same database (node B). */
  readonly other: Store;
}

/** A context whose clients exist between `open()` (beforeAll) and `close()` (afterAll). */
export function createSuiteContext(factory: StoreFactory): SuiteContext & {
  open(): Promise<void>;
  close(): Promise<void>;
} {
  let clients: [Store, Store] | null = null;
  const get = (index: 0 | 1): Store => {
    if (clients === null) throw new Error('the store conformance suite has not opened its clients');
    return clients[index];
  };
  return {
    factory,
    get store() {
      return get(0);
    },
    get other() {
      return get(1);
    },
    async open() {
      const first = await factory.open();
      const second = await factory.open();
      clients = [first, second];
    },
    async close() {
      const open = clients;
      clients = null;
      try {
        if (open) await Promise.all(open.map((store) => store.close()));
      } finally {
        await factory.destroy();
      }
    },
  };
}
