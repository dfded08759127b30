/**
 * Several nodes on one PostgreSQL (and Redis), as a deployment runs them:
 * the same schema, Redis prefix and master key, each node with its own data
 * dir. PostgreSQL and Redis are private servers started for the run on free
 * loopback ports (test/helpers/private-services.ts), so a run needs no
 * configuration and never touches the machine's own servers; a drill may
 * stop them.
 */
import { randomBytes } from 'node:crypto';
import {
  type PrivateService,
  privatePostgresUnavailable,
  privateRedisUnavailable,
  startPrivatePostgres,
  startPrivateRedis,
} from '../../test/helpers/private-services.ts';
import { type ContinuumNode, createNode } from './node-process.ts';
import type { DataDirs } from './scenario.ts';

export interface ClusterOptions {
  label: string;
  nodes: number;
  redis: boolean;
  /** Extra settings for every node. */
  env?: Record<string, string>;
  /** Extra settings per node (by index), e.g. one node's clock offset. */
  perNode?: Record<number, Record<string, string>>;
  /** Where the nodes' data dirs are made; cleaned up if the cluster fails to start. */
  dirs: DataDirs;
}

export interface Cluster {
  nodes: ContinuumNode[];
  postgres: PrivateService;
  redis: PrivateService | undefined;
  /** The settings every node shares (store, schema, Redis, master key) plus `env`. */
  settings: Record<string, string>;
  /** Stop the nodes, then PostgreSQL and Redis, and delete their files. */
  destroy(): Promise<void>;
}

/** Why a cluster cannot run here (no PostgreSQL server binaries, no redis-server), or undefined. */
export function clusterUnavailable(redis: boolean): string | undefined {
  return privatePostgresUnavailable() ?? (redis ? privateRedisUnavailable() : undefined);
}

let shared: Promise<PrivateService> | undefined;

/**
 * One private PostgreSQL for every cluster of this process that will not
 * stop it (each cluster has a schema of its own); started on first use.
 */
function sharedPostgres(): Promise<PrivateService> {
  shared ??= startPrivatePostgres();
  return shared;
}

/** Stop the shared PostgreSQL, if one was started, and delete its files. */
export async function releaseSharedPostgres(): Promise<void> {
  const current = shared;
  shared = undefined;
  await (await current?.catch(() => undefined))?.destroy().catch(() => undefined);
}

process.once('beforeExit', () => void releaseSharedPostgres());

/**
 * Start PostgreSQL (and Redis), then every node. PostgreSQL is the process's
 * shared one unless `ownPostgres` (a drill that stops it needs its own).
 */
export async function startCluster(options: ClusterOptions & { ownPostgres?: boolean }): Promise<Cluster> {
  const postgres = options.ownPostgres ? await startPrivatePostgres() : await sharedPostgres();
  let redis: PrivateService | undefined;
  const nodes: ContinuumNode[] = [];
  const destroy = async () => {
    await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
    await redis?.destroy().catch(() => undefined);
    if (options.ownPostgres) await postgres.destroy().catch(() => undefined);
  };
  try {
    if (options.redis) redis = await startPrivateRedis();
    const schema = `load_${options.label.replaceAll('-', '_')}`;
    const settings: Record<string, string> = {
      CONTINUUM_STORE: 'postgres',
      CONTINUUM_DATABASE_URL: postgres.url,
      CONTINUUM_DATABASE_SCHEMA: schema,
      CONTINUUM_DATABASE_POOL_SIZE: '20',
      CONTINUUM_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(redis === undefined ? {} : { CONTINUUM_REDIS_URL: redis.url, CONTINUUM_REDIS_PREFIX: `${schema}:` }),
      ...options.env,
    };
    for (let i = 0; i < options.nodes; i++) {
      const name = `node-${String.fromCharCode(97 + i)}`;
      nodes.push(
        await createNode({
          name,
          dataDir: options.dirs.make(`${options.label}-${name}`),
          env: { ...settings, ...options.perNode?.[i] },
        }),
      );
    }
    // The first node applies the migrations; the others start once the schema is there.
    await nodes[0]!.start();
    await Promise.all(nodes.slice(1).map((node) => node.start()));
    return { nodes, postgres, redis, settings, destroy };
  } catch (error) {
    // A cluster that did not come up leaves nothing behind: its nodes, servers and data dirs go.
    await destroy();
    options.dirs.cleanup();
    throw error;
  }
}
