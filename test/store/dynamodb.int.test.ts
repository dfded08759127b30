import { createDynamoStore, createDynamoTable } from '../../src/store/adapters/dynamodb/dynamo-store.ts';
import { uniqueName } from '../helpers/services.ts';
import { describeStore } from './conformance.ts';
import { type LocalDynamo, startLocalDynamo } from './dynamodb-local.ts';

// DynamoDB has no triggers: audit items are append-only by the adapter's conditional puts and by IAM
// (docs/DYNAMODB.md), which dynalite does not enforce, so the suite's tamper check is left out.
let local: LocalDynamo | null = null;
const table = uniqueName('continuum');

describeStore('dynamodb (dynalite)', {
  async open() {
    if (local === null) {
      local = await startLocalDynamo();
      await createDynamoTable({ table, endpoint: local.endpoint, credentials: local.credentials });
    }
    const store = createDynamoStore({ table, endpoint: local.endpoint, credentials: local.credentials });
    await store.migrate();
    return store;
  },
  async destroy() {
    await local?.close();
    local = null;
  },
});
