/**
 * Outages of the services a cluster depends on, under load: PostgreSQL
 * stopped and started again (requests must fail fast with
 * `503 store_unavailable`, nothing half-written, every acknowledged turn kept),
 * and Redis stopped and started again (nodes keep serving on node-local
 * fan-out and limits, `/readyz` says `degraded` naming `bus`, and recovers on
 * its own). Both servers are private to the drill, never the shared ones.
 */
import { pause } from '../lib/scenario.ts';
import { type Drill, type DrillContext, type DrillRecord, onCluster } from './drill.ts';
import { readiness, Writers, waitFor } from './writers.ts';

export const postgresRestart: Drill = {
  name: 'postgres-restart',
  title: 'PostgreSQL stopped and started again under load (two nodes)',
  async run(ctx: DrillContext, record: DrillRecord) {
    await onCluster(
      record,
      {
        label: `pgrestart_${Date.now().toString(36)}`,
        nodes: 2,
        redis: false,
        ownPostgres: true,
      },
      async (cluster) => {
        const urls = cluster.nodes.map((n) => n.url);
        const writers = new Writers({
          urls: () => urls,
          writers: ctx.quick ? 10 : 40,
          tenantName: `drill-pg-${Date.now().toString(36)}`,
          retryMs: 200,
        });
        await writers.setup();
        writers.start();
        await waitFor('appends before the stop', async () =>
          writers.acknowledged >= (ctx.quick ? 50 : 300) ? true : undefined,
        );
        // While PostgreSQL is down, time how long each refusal takes and what it says.
        const refusals: { status: number; code: string; ms: number }[] = [];
        await cluster.postgres.stop();
        const stoppedAt = performance.now();
        const ackedAtStop = writers.acknowledged;
        const prober = (async () => {
          const w = writers.list[0]!;
          while (performance.now() - stoppedAt < (ctx.quick ? 3_000 : 10_000)) {
            const res = await w.patient.send(
              urls[0]!,
              'probe',
              `/v1/conversations/${w.patient.conversationId}`,
              {},
              [200],
            );
            refusals.push({
              status: res.status,
              code: String((res.body as { code?: unknown }).code ?? res.failure),
              ms: res.ms,
            });
            await pause(200);
          }
        })();
        await prober;
        const ready = await readiness(urls[0]!);
        const duringOutage = writers.acknowledged - ackedAtStop;
        await cluster.postgres.start();
        const startedAt = performance.now();
        const resumed = writers.acknowledged;
        await waitFor('appends after PostgreSQL is back', async () =>
          writers.acknowledged >= resumed + (ctx.quick ? 30 : 300) ? true : undefined,
        );
        const recoverMs = performance.now() - startedAt;
        await writers.stop();
        const v = await writers.verify(urls[1]!);
        record.verified(v);
        const clear = refusals.filter((r) => r.status === 503 && r.code === 'store_unavailable');
        const slowest = Math.max(...refusals.map((r) => r.ms));
        record.check(
          'every request while it was down: 503 store_unavailable',
          refusals.length > 0 && clear.length === refusals.length,
          `${clear.length} of ${refusals.length}`,
        );
        record.check('refusals are fast (< 5 s each)', slowest < 5_000, `slowest ${Math.round(slowest)} ms`);
        record.check(
          '/readyz answers 503 naming the store while it is down',
          ready.http === 503 && ready.failing.includes('store'),
          `${ready.http} ${ready.failing.join(',')}`,
        );
        record.figure('appends acknowledged after the stop (in flight when it began)', duringOutage);
        record.figure('PostgreSQL down (ms)', Math.round(startedAt - stoppedAt));
        record.figure('back to acknowledged appends after the start (ms)', Math.round(recoverMs));
      },
    );
  },
};

export const redisOutage: Drill = {
  name: 'redis-outage',
  title: 'Redis stopped and started again under load (two nodes)',
  async run(ctx: DrillContext, record: DrillRecord) {
    await onCluster(record, { label: `redis_${Date.now().toString(36)}`, nodes: 2, redis: true }, async (cluster) => {
      const urls = cluster.nodes.map((n) => n.url);
      const writers = new Writers({
        urls: () => urls,
        writers: ctx.quick ? 10 : 40,
        tenantName: `drill-redis-${Date.now().toString(36)}`,
      });
      await writers.setup();
      writers.start();
      await waitFor('appends before the stop', async () =>
        writers.acknowledged >= (ctx.quick ? 50 : 300) ? true : undefined,
      );
      await cluster.redis!.stop();
      const stoppedAt = performance.now();
      const refusedBefore = writers.refused;
      const ackedAtStop = writers.acknowledged;
      await pause(ctx.quick ? 3_000 : 10_000);
      const degraded = await Promise.all(urls.map(readiness));
      const duringOutage = writers.acknowledged - ackedAtStop;
      const refusedDuring = writers.refused - refusedBefore;
      await cluster.redis!.start();
      const startedAt = performance.now();
      await Promise.all(
        urls.map((url) =>
          waitFor('/readyz ok again', async () => ((await readiness(url)).status === 'ok' ? true : undefined)),
        ),
      );
      const recoverMs = performance.now() - startedAt;
      const resumed = writers.acknowledged;
      await waitFor('appends after Redis is back', async () =>
        writers.acknowledged >= resumed + 20 ? true : undefined,
      );
      await writers.stop();
      const v = await writers.verify(urls[0]!);
      record.verified(v);
      record.check('appends acknowledged while Redis was down', duringOutage > 0, duringOutage);
      record.check('no request refused while Redis was down', refusedDuring === 0, refusedDuring);
      record.check(
        '/readyz: 200 degraded, failing [bus], on every node',
        degraded.every((r) => r.http === 200 && r.status === 'degraded' && r.failing.join() === 'bus'),
        degraded.map((r) => `${r.http} ${r.status} [${r.failing.join(',')}]`).join('; '),
      );
      record.figure('Redis down (ms)', Math.round(startedAt - stoppedAt));
      record.figure('/readyz ok on every node after the start (ms)', Math.round(recoverMs));
    });
  },
};
