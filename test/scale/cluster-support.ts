import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/** Settings every node of one cluster shares: the same PostgreSQL schema, Redis prefix and master key. */
export interface ClusterSettings {
  databaseUrl: string;
  schema: string;
  redisUrl?: string;
  redisPrefix: string;
  masterKey: string;
  env?: Record<string, string>;
}

export function clusterSettings(
  databaseUrl: string,
  schema: string,
  redisUrl: string | undefined,
  env: Record<string, string> = {},
): ClusterSettings {
  return {
    databaseUrl,
    schema,
    ...(redisUrl === undefined ? {} : { redisUrl }),
    redisPrefix: `${schema}:`,
    masterKey: randomBytes(32).toString('base64'),
    env,
  };
}

/** `count` real `continuum serve` processes on one PostgreSQL (and Redis), each with its own data dir. */
export async function startCluster(settings: ClusterSettings, count: number): Promise<ServerProcess[]> {
  return Promise.all(Array.from({ length: count }, () => startNode(settings)));
}

const dataDirs: string[] = [];

export async function startNode(settings: ClusterSettings): Promise<ServerProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-cluster-'));
  dataDirs.push(dataDir);
  return startServerProcess({
    dataDir,
    env: {
      CONTINUUM_STORE: 'postgres',
      CONTINUUM_DATABASE_URL: settings.databaseUrl,
      CONTINUUM_DATABASE_SCHEMA: settings.schema,
      CONTINUUM_DATABASE_POOL_SIZE: '10',
      ...(settings.redisUrl === undefined ? {} : { CONTINUUM_REDIS_URL: settings.redisUrl }),
      CONTINUUM_REDIS_PREFIX: settings.redisPrefix,
      CONTINUUM_MASTER_KEY: settings.masterKey,
      ...settings.env,
    },
  });
}

/** Drop the cluster's schema and Redis keys, and its nodes' data dirs. */
export async function dropCluster(settings: ClusterSettings): Promise<void> {
  const client = new pg.Client({ connectionString: settings.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${settings.schema}" CASCADE`);
  } finally {
    await client.end();
  }
  if (settings.redisUrl !== undefined) {
    const redis = new Redis(settings.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const keys = await redis.keys(`${settings.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // A private Redis may already be gone.
    } finally {
      redis.disconnect();
    }
  }
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
