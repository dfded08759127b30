import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type LocalDynamo, startLocalDynamo } from '../store/dynamodb-local.ts';

function capture(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { env, out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

describe('continuum dynamodb create-table', () => {
  let local: LocalDynamo;
  let env: Record<string, string>;

  beforeAll(async () => {
    local = await startLocalDynamo();
    // The AWS SDK reads credentials from the process environment, as it would in production.
    process.env.AWS_ACCESS_KEY_ID = local.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = local.credentials.secretAccessKey;
    env = {
      CONTINUUM_STORE: 'dynamodb',
      CONTINUUM_DYNAMODB_TABLE: 'continuum-cli-test',
      CONTINUUM_DYNAMODB_ENDPOINT: local.endpoint,
      CONTINUUM_DYNAMODB_REGION: 'eu-west-1',
    };
  });

  afterAll(async () => {
    await local?.close();
  });

  it('migrate on a missing table fails and names the command; create-table creates it once; then migrate passes', async () => {
    const before = capture(env);
    expect(await main(['migrate'], before.io)).toBe(1);
    expect(before.err.join('\n')).toContain('continuum dynamodb create-table');

    const first = capture(env);
    expect(await main(['dynamodb', 'create-table'], first.io)).toBe(0);
    expect(first.out.join('\n')).toBe('created DynamoDB table continuum-cli-test');
    const again = capture(env);
    expect(await main(['dynamodb', 'create-table'], again.io)).toBe(0);
    expect(again.out.join('\n')).toBe('DynamoDB table continuum-cli-test already exists');

    const migrate = capture(env);
    expect(await main(['migrate'], migrate.io)).toBe(0);
    expect(migrate.out.join('\n')).toMatch(/migrated schema from version 0 to 1|schema is current/);
  });

  it('takes exactly one action', async () => {
    expect(await main(['dynamodb'], capture(env).io)).toBe(2);
    expect(await main(['dynamodb', 'create-table', '--now'], capture(env).io)).toBe(2);
  });
});
