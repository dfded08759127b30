import { loadConfig } from '../../config/index.ts';
import { dynamoOptionsOf } from '../../server/runtime.ts';
import { type CliIo, EXIT, UsageError } from '../io.ts';

export const dynamodbHelp = `continuum dynamodb create-table

Create the DynamoDB table named by CONTINUUM_DYNAMODB_TABLE (on-demand
billing, with its index) in CONTINUUM_DYNAMODB_REGION, or at
CONTINUUM_DYNAMODB_ENDPOINT when set, and wait until it is active. Does
nothing to a table that already exists with the right key schema; fails if it
exists with another. Run it once before the first start with
CONTINUUM_STORE=dynamodb. The key design is in docs/DYNAMODB.md.`;

export async function dynamodb(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create-table') throw new UsageError(`dynamodb takes one action: create-table\n\n${dynamodbHelp}`);
  if (rest.length > 0) throw new UsageError(`dynamodb create-table takes no options; got ${rest.join(' ')}`);
  const config = loadConfig(io.env);
  const options = dynamoOptionsOf(config);
  const { createDynamoTable } = await import('../../store/adapters/dynamodb/dynamo-store.ts');
  const { created } = await createDynamoTable(options);
  io.out(created ? `created DynamoDB table ${options.table}` : `DynamoDB table ${options.table} already exists`);
  return EXIT.ok;
}
