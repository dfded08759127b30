/**
 * `kill -9` of a node in the middle of appends, then a restart on the same
 * port and data: with SQLite (one node, the clients wait for it to come back)
 * and with PostgreSQL (two nodes, the clients move to the survivor). Every
 * acknowledged turn must be there afterwards, exactly once.
 */
import { type ContinuumNode, createNode } from '../lib/node-process.ts';
import { DataDirs } from '../lib/scenario.ts';
import { type Drill, type DrillContext, type DrillRecord, onCluster } from './drill.ts';
import { Writers, waitFor } from './writers.ts';

const healthy = async (url: string) => {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
  return res?.status === 200 ? true : undefined;
};

export const kill9Sqlite: Drill = {
  name: 'kill9-sqlite',
  title: 'kill -9 of a SQLite node during appends, then a restart',
  async run(ctx: DrillContext, record: DrillRecord) {
    const dirs = new DataDirs();
    const node = await createNode({ name: 'node', dataDir: dirs.make('kill9-sqlite') });
    try {
      await node.start();
      const writers = new Writers({
        urls: () => [node.url],
        writers: ctx.quick ? 10 : 40,
        tenantName: `drill-kill9-sqlite-${Date.now().toString(36)}`,
      });
      await writers.setup();
      writers.start();
      await waitFor('appends before the kill', async () =>
        writers.acknowledged >= (ctx.quick ? 60 : 400) ? true : undefined,
      );
      const ackedAtKill = writers.acknowledged;
      const killedAt = performance.now();
      await node.kill9();
      await node.start();
      const downMs = performance.now() - killedAt;
      const resumed = writers.acknowledged;
      await waitFor('appends after the restart', async () =>
        writers.acknowledged >= resumed + (ctx.quick ? 40 : 400) ? true : undefined,
      );
      await writers.stop();
      const v = await writers.verify(node.url);
      record.verified(v);
      record.check(
        'the restarted node serves appends again',
        writers.acknowledged > resumed,
        writers.acknowledged - resumed,
      );
      record.figure('acknowledged before the kill', ackedAtKill);
      record.figure('kill -9 to healthy again (ms)', Math.round(downMs));
    } finally {
      await node.stop().catch(() => undefined);
      dirs.cleanup();
    }
  },
};

export const kill9Postgres: Drill = {
  name: 'kill9-postgres',
  title: 'kill -9 of one of two PostgreSQL nodes during appends, then a restart',
  async run(ctx: DrillContext, record: DrillRecord) {
    await onCluster(record, { label: `kill9_${Date.now().toString(36)}`, nodes: 2, redis: false }, async (cluster) => {
      const [a, b] = cluster.nodes as [ContinuumNode, ContinuumNode];
      // Clients use every live node; a refused attempt moves to the next one.
      const writers = new Writers({
        urls: () => (a.running ? [a.url, b.url] : [b.url]),
        writers: ctx.quick ? 10 : 40,
        tenantName: `drill-kill9-pg-${Date.now().toString(36)}`,
      });
      await writers.setup();
      writers.start();
      await waitFor('appends before the kill', async () =>
        writers.acknowledged >= (ctx.quick ? 60 : 400) ? true : undefined,
      );
      const ackedAtKill = writers.acknowledged;
      await a.kill9();
      const afterKill = writers.acknowledged;
      await waitFor('appends on the survivor', async () =>
        writers.acknowledged >= afterKill + (ctx.quick ? 30 : 200) ? true : undefined,
      );
      const restartedAt = performance.now();
      await a.start();
      await waitFor('the restarted node healthy', () => healthy(a.url));
      const restartMs = performance.now() - restartedAt;
      const resumed = writers.acknowledged;
      await waitFor('appends after the restart', async () =>
        writers.acknowledged >= resumed + (ctx.quick ? 30 : 200) ? true : undefined,
      );
      await writers.stop();
      const v = await writers.verify(a.url);
      record.verified(v);
      record.check(
        'appends carried on on the survivor',
        writers.acknowledged > afterKill,
        writers.acknowledged - afterKill,
      );
      record.figure('acknowledged before the kill', ackedAtKill);
      record.figure('restart to healthy (ms)', Math.round(restartMs));
    });
  },
};
