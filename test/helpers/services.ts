import { randomBytes } from 'node:crypto';

/**
 * Where the integration tests find PostgreSQL and Redis. `.ci/run` exports
 * both variables; on a machine without the services, leave them unset and
 * the tests that need them skip with a message naming the variable. Under
 * `CI=true` an unset variable is a failure, never a silent skip.
 */
export const POSTGRES_URL_VAR = 'CONTINUUM_TEST_DATABASE_URL';
export const REDIS_URL_VAR = 'CONTINUUM_TEST_REDIS_URL';

const EXAMPLES: Record<string, string> = {
  [POSTGRES_URL_VAR]: 'postgres://postgres@127.0.0.1:5432/test',
  [REDIS_URL_VAR]: 'redis://127.0.0.1:6379',
};

function serviceUrl(variable: string): string | undefined {
  const value = process.env[variable];
  if (value !== undefined && value !== '') return value;
  if (process.env.CI === 'true') {
    throw new Error(`${variable} is not set (CI=true needs it; .ci/run exports it)`);
  }
  const notice = `skipping: set ${variable}=${EXAMPLES[variable]} to run the tests that need this service`;
  if (!announced.has(variable)) {
    announced.add(variable);
    process.stderr.write(`${notice}\n`);
  }
  return undefined;
}
const announced = new Set<string>();

/** The test PostgreSQL URL, or undefined (skip) when none is configured. */
export function postgresUrl(): string | undefined {
  return serviceUrl(POSTGRES_URL_VAR);
}

/** The test Redis URL, or undefined (skip) when none is configured. */
export function redisUrl(): string | undefined {
  return serviceUrl(REDIS_URL_VAR);
}

/** A name no other test run uses (PostgreSQL schema, Redis key prefix, DynamoDB table). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A tenant name no other test run uses (tenant names are lowercase letters, digits and hyphens). */
export function uniqueTenantName(prefix: string): string {
  return uniqueName(prefix).replaceAll('_', '-');
}
