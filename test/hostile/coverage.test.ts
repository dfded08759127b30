import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, type Operation, ROUTES, send } from './support/routes.ts';
import { buildWorld, type World } from './support/world.ts';

/**
 * The hostile-input properties cover every route because they enumerate the
 * app's OpenAPI document; this file fails when a route has no entry in the
 * generator table (test/hostile/support/routes.ts), and shows that each
 * entry's valid call really is accepted — so every refusal the properties
 * see is due to the one part they changed.
 */
describe('hostile input covers every route', () => {
  let world: World;
  let operations: Operation[];

  beforeAll(async () => {
    world = await buildWorld();
    operations = await listOperations(world);
  });
  afterAll(async () => world?.t.close());

  it('every route of /openapi.json has a generator entry, and every entry a route', () => {
    expect(operations.length).toBeGreaterThan(20);
    const missing = operations.filter((op) => op.spec === undefined).map((op) => op.key);
    expect(missing, 'routes without an entry in test/hostile/support/routes.ts ROUTES: add one').toEqual([]);
    const listed = new Set(operations.map((op) => op.key));
    const stale = Object.keys(ROUTES).filter((key) => !listed.has(key));
    expect(stale, 'entries for routes that no longer exist').toEqual([]);
  });

  it('the valid call of each route is accepted (streams and WebSocket routes excepted)', async () => {
    // Closing and removing change what later calls see: they go last.
    const last = (op: Operation) => Number(op.key.includes('/close') || op.method === 'DELETE');
    const ordered = [...operations].sort((x, y) => last(x) - last(y));
    for (const op of ordered) {
      const spec = ROUTES[op.key]!;
      if (spec.class === 'stream') continue;
      const res = await send(world, op);
      if (spec.class === 'websocket') {
        expect(res.statusCode, `${op.key} without an Upgrade`).toBe(400);
        continue;
      }
      expect(res.statusCode, `${op.key}: ${res.body.slice(0, 300)}`).toBeLessThan(300);
    }
  });
});
