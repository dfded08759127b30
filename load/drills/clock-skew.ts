/**
 * One node's clock two minutes ahead (`CONTINUUM_CLOCK_OFFSET=120`) in a
 * PostgreSQL and Redis cluster. With `CONTINUUM_CLOCK_TOLERANCE` covering the skew,
 * tokens issued by the skewed node verify and refresh on the others and the
 * reverse; appends alternating between the nodes keep strict turn order
 * (turn numbers and the hash chain; `createdAt` is each node's own clock and
 * may step back, which is reported, not hidden). A third node left at the
 * default 5 s tolerance shows what the setting is for: it refuses the skewed
 * node's fresh token as not yet valid.
 */
import { call } from '../lib/http.ts';
import type { ContinuumNode } from '../lib/node-process.ts';
import type { Patient } from '../lib/patients.ts';
import { openSubscriber } from '../lib/ws-subscriber.ts';
import { type Drill, type DrillContext, type DrillRecord, onCluster } from './drill.ts';
import { Writers, waitFor } from './writers.ts';

const SKEW_SECONDS = 120;
const TOLERANCE_SECONDS = 150;

export const clockSkew: Drill = {
  name: 'clock-skew',
  title: "a node's clock two minutes ahead",
  async run(ctx: DrillContext, record: DrillRecord) {
    const tolerant = { CONTINUUM_CLOCK_TOLERANCE: String(TOLERANCE_SECONDS) };
    await onCluster(
      record,
      {
        label: `skew_${Date.now().toString(36)}`,
        // The third node (default tolerance) only shows what the setting is for; the quick run leaves it out.
        nodes: ctx.quick ? 2 : 3,
        // Redis carries each node's events to the followers on the others, as in any multi-node deployment.
        redis: true,
        perNode: { 0: tolerant, 1: { ...tolerant, CONTINUUM_CLOCK_OFFSET: String(SKEW_SECONDS) }, 2: {} },
      },
      async (cluster) => {
        const [a, b] = cluster.nodes as [ContinuumNode, ContinuumNode];
        const c = cluster.nodes[2];
        record.figure('node-b clock offset (s)', SKEW_SECONDS);
        record.figure('CONTINUUM_CLOCK_TOLERANCE on node-a and node-b (s)', TOLERANCE_SECONDS);
        const writers = new Writers({
          urls: () => [a.url, b.url],
          writers: ctx.quick ? 8 : 30,
          tenantName: `drill-skew-${Date.now().toString(36)}`,
        });
        await writers.setup();
        // Half the patients hold tokens issued by the skewed node.
        const fromB = writers.list.filter((_, i) => i % 2 === 1).map((w) => w.patient);
        const fromA = writers.list.filter((_, i) => i % 2 === 0).map((w) => w.patient);
        for (const p of fromB) await p.signIn(b.url);

        const read = (url: string, p: Patient) =>
          call(`${url}/v1/conversations/${p.conversationId}`, { token: p.access });
        const first = fromB[0]!;
        const other = fromA[0]!;
        const bOnA = await read(a.url, first);
        const aOnB = await read(b.url, other);
        record.check("node-b's token verifies on node-a", bOnA.status === 200, bOnA.status);
        record.check("node-a's token verifies on node-b", aOnB.status === 200, aOnB.status);
        if (c !== undefined) {
          const cRefuses = await read(c.url, first);
          const cAccepts = await read(c.url, other);
          record.check(
            "node-c (tolerance 5 s) refuses node-b's fresh token with a 401, accepts node-a's",
            cRefuses.status === 401 && cAccepts.status === 200,
            `${cRefuses.status} ${(cRefuses.body as { code?: string }).code ?? ''}, ${cAccepts.status}`,
          );
        }
        const refreshedOnA = await first.refreshTokens(a.url);
        const refreshedOnB = await other.refreshTokens(b.url);
        record.check(
          'a pair from node-b refreshes on node-a, and the reverse',
          refreshedOnA && refreshedOnB,
          `${refreshedOnA}, ${refreshedOnB}`,
        );

        // A sync subscriber on node-a of a conversation written on both nodes (ADR-006: events reach every node).
        const followed = writers.list[0]!.patient;
        const subscriber = await openSubscriber({
          url: a.url,
          node: a.name,
          patient: followed,
          recorder: writers.recorder,
        });
        writers.start();
        await waitFor('appends on both nodes', async () =>
          writers.acknowledged >= (ctx.quick ? 80 : 600) ? true : undefined,
        );
        await writers.stop();
        const v = await writers.verify(a.url);
        record.verified(v);
        record.check('no append refused (every token verified on both nodes)', writers.refused === 0, writers.refused);
        const ackedTurns = writers.list[0]!.acked.length;
        await waitFor('the subscriber has every turn', async () =>
          subscriber.seen.length >= ackedTurns ? true : undefined,
        ).catch(() => undefined);
        subscriber.close();
        const seen = subscriber.seen;
        record.check(
          'a sync subscriber on node-a got every turn in order (numbers 1..n, ids increasing)',
          subscriber.ready &&
            subscriber.outOfOrder === 0 &&
            seen.length === ackedTurns &&
            seen.every((n, i) => n === i + 1),
          `${seen.length} of ${ackedTurns}`,
        );
        let inversions = 0;
        for (const w of writers.list) {
          for (let i = 1; i < w.acked.length; i++) {
            if (Date.parse(w.acked[i]!.createdAt) < Date.parse(w.acked[i - 1]!.createdAt)) inversions++;
          }
        }
        record.figure('consecutive turns whose createdAt steps back (node clocks differ)', inversions);
      },
    );
  },
};
