import { afterAll, beforeAll, describe } from 'vitest';
import { auditTests } from './conformance/audit.ts';
import { contextAndStreamTests } from './conformance/context-streams.ts';
import { conversationTests } from './conformance/conversations.ts';
import { credentialTests } from './conformance/credentials.ts';
import { encryptionTests } from './conformance/encryption.ts';
import { flagTests } from './conformance/flags.ts';
import { isolationTests } from './conformance/isolation.ts';
import { participantTests } from './conformance/participants.ts';
import { raceTests } from './conformance/races.ts';
import { refreshTests } from './conformance/refresh.ts';
import { createSuiteContext, type StoreFactory } from './conformance/suite-context.ts';
import { transferTests } from './conformance/transfer.ts';
import { turnTests } from './conformance/turns.ts';

export type { StoreFactory } from './conformance/suite-context.ts';

/**
 * The one test suite every Store adapter passes. Tests use fresh random tenant
 * and conversation ids and assert containment on list-all calls, so they run
 * against a database other tests (or other runs) also use.
 *
 * @example
 * describeStore('sqlite', {
 *   open: async () => { const store = createSqliteStore({ filename }); await store.migrate(); return store; },
 *   destroy: async () => rm(dir, { recursive: true, force: true }),
 * });
 */
export function describeStore(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    const ctx = createSuiteContext(factory);
    beforeAll(() => ctx.open());
    afterAll(() => ctx.close());

    credentialTests(ctx);
    refreshTests(ctx);
    conversationTests(ctx);
    turnTests(ctx);
    raceTests(ctx);
    isolationTests(ctx);
    auditTests(ctx);
    encryptionTests(ctx);
    contextAndStreamTests(ctx);
    participantTests(ctx);
    flagTests(ctx);
    transferTests(ctx);
  });
}
