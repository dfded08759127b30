import { describe, expect, it } from 'vitest';
import { type ComponentName, type Probe, ReadinessChecker } from '../../src/observability/readiness.ts';

/** Probes that answer as `state` says and count their calls; time is a number the test moves. */
function setup(options: { timeoutMs?: number } = {}) {
  let now = 0;
  const calls: Record<ComponentName, number> = { store: 0, bus: 0, keys: 0, model: 0, intentRouter: 0 };
  const state: Record<ComponentName, 'ok' | 'fail' | 'hang'> = {
    store: 'ok',
    bus: 'ok',
    keys: 'ok',
    model: 'ok',
    intentRouter: 'ok',
  };
  const probe =
    (name: ComponentName): Probe =>
    (signal) => {
      calls[name] += 1;
      if (state[name] === 'fail') throw new Error(`${name} refused`);
      if (state[name] === 'hang') return new Promise((_, reject) => signal.addEventListener('abort', () => reject()));
      return Promise.resolve();
    };
  const results: [ComponentName, boolean][] = [];
  const checker = new ReadinessChecker({
    probes: {
      store: probe('store'),
      bus: probe('bus'),
      keys: probe('keys'),
      model: probe('model'),
      intentRouter: probe('intentRouter'),
    },
    cacheMs: 1_000,
    timeoutMs: options.timeoutMs ?? 2_000,
    now: () => now,
    onResult: (name, check) => results.push([name, check.ok]),
  });
  return { checker, calls, state, results, advance: (ms: number) => (now += ms) };
}

describe('readiness checks: real probes, reused for a second', () => {
  it('reuses each result for cacheMs, then probes again', async () => {
    const s = setup();
    await s.checker.report();
    s.advance(999);
    const cached = await s.checker.report();
    expect(s.calls.store).toBe(1);
    expect(cached.checks.store.age).toBe(999);
    s.advance(1);
    await s.checker.report();
    expect(s.calls.store).toBe(2);
    expect(s.results.filter(([name]) => name === 'store')).toEqual([
      ['store', true],
      ['store', true],
    ]);
  });

  it('shares one probe among callers that arrive while it runs', async () => {
    const s = setup();
    await Promise.all([s.checker.report(), s.checker.report(), s.checker.check(['store', 'bus'])]);
    expect(s.calls).toEqual({ store: 1, bus: 1, keys: 1, model: 1, intentRouter: 1 });
  });

  it('probes afresh after invalidate: a failure seen elsewhere is never hidden by a cached pass', async () => {
    const s = setup();
    expect((await s.checker.report()).status).toBe('ok');
    s.state.store = 'fail';
    expect((await s.checker.report()).status).toBe('ok'); // still the cached pass
    s.checker.invalidate('store');
    const report = await s.checker.report();
    expect(report).toMatchObject({ status: 'unavailable', failing: ['store'] });
    expect(report.checks.store).toMatchObject({ ok: false, detail: 'store refused', age: 0 });
  });

  it('fails a probe that does not answer within the timeout, and aborts it', async () => {
    const s = setup({ timeoutMs: 30 });
    s.state.model = 'hang';
    const report = await s.checker.report();
    expect(report.failing).toEqual(['model']);
    expect(report.checks.model.detail).toBe('no answer within 30 ms');
  });

  it('reports a failing bus alone as degraded, with any other failure as unavailable', async () => {
    const s = setup();
    s.state.bus = 'fail';
    expect(await s.checker.report()).toMatchObject({ status: 'degraded', failing: ['bus'] });
    s.state.keys = 'fail';
    s.advance(1_000);
    expect(await s.checker.report()).toMatchObject({ status: 'unavailable', failing: ['bus', 'keys'] });
  });
});
