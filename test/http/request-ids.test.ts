import { afterEach, describe, expect, it } from 'vitest';
import { requestIds } from '../../src/server/request-ids.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('request ids', () => {
  let t: TestApp | undefined;
  afterEach(async () => t?.close());

  it('are req_ and 16 hex digits, none repeated across several refills of the pool', () => {
    const nextId = requestIds();
    const ids = Array.from({ length: 2_000 }, nextId);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Two sources draw their own bytes.
    expect(requestIds()()).not.toBe(requestIds()());
  });

  it('name each response, a different one each time, and the problem document of an error', async () => {
    t = await buildTestApp();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await t.request({ method: 'GET', url: '/healthz' });
      expect(res.headers['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
      seen.add(String(res.headers['x-request-id']));
    }
    expect(seen.size).toBe(5);
    const refused = await t.request({ method: 'GET', url: '/v1/conversations' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().requestId).toBe(refused.headers['x-request-id']);
  });
});
