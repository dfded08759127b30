import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { type AlertChange, AlertEngine } from '../../src/observability/alerts/alert-engine.ts';
import { ALERT_RULES, type AlertId } from '../../src/observability/alerts/rules.ts';

const START = Date.UTC(2026, 10, 25, 8, 0, 0);
const MIN = 60_000;

function engine() {
  const clock = new FakeClock(START);
  const changes: AlertChange[] = [];
  const alerts = new AlertEngine({ clock, onChange: (change) => changes.push(change) });
  const firing = () => alerts.list().firing.map((a) => a.id);
  return { clock, alerts, changes, firing };
}

/** `n` requests spread over the last `spanMs` (the clock ends where it started + spanMs). */
function requests(e: ReturnType<typeof engine>, n: number, latencySeconds: number, status = 200, spanMs = 0) {
  for (let i = 0; i < n; i++) {
    e.alerts.request(latencySeconds, status);
    if (spanMs > 0) e.clock.advance(Math.floor(spanMs / n));
  }
}

describe('alert rules fire and resolve over sliding windows of the injected clock', () => {
  it('has a stable id and severity for each of the nine rules', () => {
    expect(ALERT_RULES.map((rule) => [rule.id, rule.severity])).toEqual([
      ['store_down', 'critical'],
      ['state_corrupt', 'critical'],
      ['jwt_signing_failure', 'critical'],
      ['error_rate', 'critical'],
      ['latency_p99', 'warning'],
      ['refresh_token_reuse', 'warning'],
      ['emergency_escalation', 'critical'],
      ['sqlite_checkpoints', 'warning'],
      ['bus_down', 'warning'],
    ]);
  });

  it('sqlite_checkpoints: fires at the third failed checkpoint within 15 min, resolves when they age out', () => {
    const e = engine();
    const failed = () => e.alerts.checkpointFailed({ handedBack: false, reason: 'disk I/O error' });
    expect(failed()).toEqual([]);
    e.clock.advance(5 * MIN);
    expect(failed()).toEqual([]);
    e.clock.advance(5 * MIN);
    const [change] = failed();
    expect(change).toMatchObject({ event: 'alert.firing', alert: { id: 'sqlite_checkpoints', severity: 'warning' } });
    expect(change!.alert.detail).toBe('3 background checkpoint(s) failed in the last 15 min (fires at 3)');
    // The first of the three leaves the window 15 min after it happened.
    e.clock.advance(5 * MIN - 1);
    expect(e.alerts.evaluate()).toEqual([]);
    e.clock.advance(1);
    expect(e.alerts.evaluate()).toMatchObject([{ event: 'alert.resolved', alert: { id: 'sqlite_checkpoints' } }]);
  });

  it('sqlite_checkpoints: fires when checkpoints are handed back to SQLite, and stays until restart', () => {
    const e = engine();
    const [change] = e.alerts.checkpointFailed({ handedBack: true, reason: 'the checkpoint thread exited (1)' });
    expect(change).toMatchObject({ event: 'alert.firing', alert: { id: 'sqlite_checkpoints' } });
    expect(change!.alert.detail).toBe(
      'checkpoints went back to SQLite, inside commits, until the server restarts: the checkpoint thread exited (1)',
    );
    e.clock.advance(24 * 60 * MIN);
    expect(e.alerts.evaluate()).toEqual([]);
    expect(e.firing()).toEqual(['sqlite_checkpoints']);
  });

  it('latency_p99: fires when the p99 of the last 5 min is over 2 s, resolves when those requests age out', () => {
    const e = engine();
    requests(e, 98, 0.05);
    requests(e, 2, 0.04);
    requests(e, 1, 2.5); // 1 slow of 101: the top 1 % (nearest rank) may hold one
    expect(e.alerts.evaluate()).toEqual([]);
    requests(e, 1, 3.1); // 2 slow of 102: the p99 is slow
    const [change] = e.alerts.evaluate();
    expect(change).toMatchObject({
      event: 'alert.firing',
      alert: { id: 'latency_p99', severity: 'warning', firstSeen: new Date(START).toISOString(), resolvedAt: null },
    });
    expect(change!.alert.detail).toContain('2 of 102 requests took over 2 s');
    expect(change!.alert.detail).toContain('p99 ≤ 5 s');

    e.clock.advance(4 * MIN);
    requests(e, 10, 0.01);
    expect(e.alerts.evaluate()).toEqual([]); // still within the window
    expect(e.firing()).toEqual(['latency_p99']);
    expect(e.alerts.list().firing[0]!.lastSeen).toBe(new Date(START + 4 * MIN).toISOString());

    e.clock.advance(MIN + 20_000);
    const [resolved] = e.alerts.evaluate();
    expect(resolved).toMatchObject({
      event: 'alert.resolved',
      alert: { id: 'latency_p99', resolvedAt: new Date(START + 5 * MIN + 20_000).toISOString() },
    });
    expect(e.firing()).toEqual([]);
  });

  it('latency_p99: a slow request among too few requests does not page', () => {
    const e = engine();
    requests(e, 5, 4);
    requests(e, 14, 0.01);
    expect(e.alerts.evaluate()).toEqual([]); // 19 requests: below the minimum of 20
    requests(e, 1, 0.01);
    expect(e.alerts.evaluate().map((c) => c.alert.id)).toEqual(['latency_p99']);
  });

  it('error_rate: fires above 0.1 % 5xx over at least 100 requests, resolves when the errors age out', () => {
    const e = engine();
    requests(e, 2, 0.01);
    requests(e, 1, 0.01, 500);
    expect(e.alerts.evaluate()).toEqual([]); // one error in three requests is no rate

    requests(e, 997, 0.01, 200, 60_000);
    expect(e.alerts.evaluate()).toEqual([]); // 1 in 1000: exactly 0.1 %, not above
    requests(e, 1, 0.01, 503);
    requests(e, 4, 0.01, 404); // client errors are not errors of the server
    const [change] = e.alerts.evaluate();
    expect(change).toMatchObject({ event: 'alert.firing', alert: { id: 'error_rate', severity: 'critical' } });
    expect(change!.alert.detail).toContain('2 of 1005 requests failed with a 5xx');

    // The window moves in 10 s buckets: the errors' bucket leaves it within 5 min 10 s.
    e.clock.advance(5 * MIN);
    expect(e.alerts.evaluate()).toEqual([]);
    expect(e.firing()).toEqual(['error_rate']);
    e.clock.advance(10_000);
    expect(e.alerts.evaluate()).toMatchObject([{ event: 'alert.resolved', alert: { id: 'error_rate' } }]);
  });

  const eventRules: [AlertId, (e: ReturnType<typeof engine>) => AlertChange[], number][] = [
    ['jwt_signing_failure', (e) => e.alerts.signingFailed(), 5 * MIN],
    ['state_corrupt', (e) => e.alerts.stateCorrupt(), 15 * MIN],
    ['refresh_token_reuse', (e) => e.alerts.refreshReused(), 15 * MIN],
    ['emergency_escalation', (e) => e.alerts.escalated(), 15 * MIN],
  ];
  for (const [id, signal, windowMs] of eventRules) {
    it(`${id}: fires at the first occurrence, resolves ${windowMs / MIN} min after the last`, () => {
      const e = engine();
      expect(signal(e)).toMatchObject([{ event: 'alert.firing', alert: { id } }]);
      e.clock.advance(windowMs - MIN);
      expect(signal(e)).toEqual([]); // a second occurrence extends it
      e.clock.advance(windowMs - 1);
      expect(e.alerts.evaluate()).toEqual([]);
      expect(e.firing()).toEqual([id]);
      e.clock.advance(1);
      const [resolved] = e.alerts.evaluate();
      expect(resolved).toMatchObject({
        event: 'alert.resolved',
        alert: { id, firstSeen: new Date(START).toISOString() },
      });
      expect(resolved!.alert.detail).toMatch(/^0 /);
    });
  }

  for (const id of ['store_down', 'bus_down'] as const) {
    const component = id === 'store_down' ? 'store' : 'bus';
    it(`${id}: fires on a failing ${component} check, resolves on the next passing one`, () => {
      const e = engine();
      expect(e.alerts.component(component, true)).toEqual([]);
      e.clock.advance(10_000);
      const [fired] = e.alerts.component(component, false, 'connect ECONNREFUSED 127.0.0.1:6390');
      expect(fired).toMatchObject({ event: 'alert.firing', alert: { id } });
      expect(fired!.alert.detail).toContain('ECONNREFUSED');
      expect(e.alerts.component(component, false, 'still refused')).toEqual([]);
      e.clock.advance(30_000);
      expect(e.alerts.component(component, true)).toMatchObject([
        {
          event: 'alert.resolved',
          alert: {
            id,
            firstSeen: new Date(START + 10_000).toISOString(),
            resolvedAt: new Date(START + 40_000).toISOString(),
          },
        },
      ]);
    });
  }

  it('lists firing alerts in rule order and resolved ones newest first, for 24 hours', () => {
    const e = engine();
    e.alerts.refreshReused();
    e.alerts.component('store', false, 'gone');
    e.alerts.signingFailed();
    expect(e.firing()).toEqual(['store_down', 'jwt_signing_failure', 'refresh_token_reuse']);
    e.alerts.component('store', true);
    e.clock.advance(16 * MIN);
    e.alerts.evaluate();
    const { firing, resolved } = e.alerts.list();
    expect(firing).toEqual([]);
    expect(resolved.map((a) => a.id)).toEqual(['jwt_signing_failure', 'refresh_token_reuse', 'store_down']);
    e.clock.advance(24 * 60 * MIN + 1);
    expect(e.alerts.list().resolved).toEqual([]);
    expect(e.changes.map((c) => `${c.event} ${c.alert.id}`)).toEqual([
      'alert.firing refresh_token_reuse',
      'alert.firing store_down',
      'alert.firing jwt_signing_failure',
      'alert.resolved store_down',
      'alert.resolved jwt_signing_failure',
      'alert.resolved refresh_token_reuse',
    ]);
  });

  it('fires again as a new occurrence after resolving, and survives a throwing listener', () => {
    const clock = new FakeClock(START);
    const alerts = new AlertEngine({
      clock,
      onChange: () => {
        throw new Error('log stream closed');
      },
    });
    alerts.component('bus', false);
    alerts.component('bus', true);
    clock.advance(MIN);
    const [again] = alerts.component('bus', false);
    expect(again!.alert.firstSeen).toBe(new Date(START + MIN).toISOString());
    expect(alerts.list().resolved).toHaveLength(1);
  });
});
