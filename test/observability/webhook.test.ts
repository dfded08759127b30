import { afterEach, describe, expect, it } from 'vitest';
import { AlertWebhook, type WebhookOutcome } from '../../src/observability/alerts/webhook.ts';
import { startReceiver } from './webhook-receiver.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

describe('alert webhook delivery against a loopback receiver', () => {
  let receiver: Receiver | undefined;
  let hook: AlertWebhook | undefined;
  afterEach(async () => {
    await hook?.close();
    await receiver?.close();
    hook = undefined;
    receiver = undefined;
  });

  function webhook(url: string, outcomes: [WebhookOutcome, string?][], options = {}) {
    hook = new AlertWebhook({
      url,
      baseDelayMs: 20,
      timeoutMs: 2_000,
      onOutcome: (outcome, reason) => outcomes.push(reason === undefined ? [outcome] : [outcome, reason]),
      ...options,
    });
    return hook;
  }

  it('POSTs each payload as JSON, in order', async () => {
    receiver = await startReceiver();
    const outcomes: [WebhookOutcome, string?][] = [];
    const h = webhook(receiver.url, outcomes);
    h.send({ event: 'alert.firing', alert: { id: 'store_down' } });
    h.send({ event: 'alert.resolved', alert: { id: 'store_down' } });
    await receiver.until(2);
    expect(receiver.received.map((r) => r.body)).toEqual([
      { event: 'alert.firing', alert: { id: 'store_down' } },
      { event: 'alert.resolved', alert: { id: 'store_down' } },
    ]);
    expect(receiver.received[0]!.contentType).toBe('application/json');
    await expect.poll(() => outcomes).toEqual([['delivered'], ['delivered']]);
  });

  it('retries a failing receiver with growing waits until it takes the alert, keeping the order', async () => {
    receiver = await startReceiver({ statuses: [503, 500, 200] });
    const outcomes: [WebhookOutcome, string?][] = [];
    const h = webhook(receiver.url, outcomes);
    h.send({ n: 1 });
    h.send({ n: 2 });
    await receiver.until(4);
    expect(receiver.received.map((r) => [r.status, r.body])).toEqual([
      [503, { n: 1 }],
      [500, { n: 1 }],
      [200, { n: 1 }],
      [200, { n: 2 }],
    ]);
    await expect
      .poll(() => outcomes)
      .toEqual([['retried', 'HTTP 503'], ['retried', 'HTTP 500'], ['delivered'], ['delivered']]);
    const [first, second, third] = receiver.received.map((r) => r.at);
    expect(second! - first!).toBeGreaterThanOrEqual(15); // ~20 ms, then doubled
    expect(third! - second!).toBeGreaterThanOrEqual(35);
    await expect.poll(() => h.pending).toBe(0);
  });

  it('retries when nothing listens, and gives up after maxAttempts', async () => {
    receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close(); // the port is now closed: connections are refused
    receiver = undefined;
    const outcomes: [WebhookOutcome, string?][] = [];
    const h = webhook(url, outcomes, { maxAttempts: 3 });
    h.send({ n: 1 });
    await expect.poll(() => outcomes.length, { timeout: 5_000 }).toBe(3);
    expect(outcomes.map(([o]) => o)).toEqual(['retried', 'retried', 'failed']);
    expect(outcomes[2]![1]).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('returns at once while the receiver hangs, and drops the oldest waiting alert past its bound', async () => {
    receiver = await startReceiver({ holdMs: 300 });
    const outcomes: [WebhookOutcome, string?][] = [];
    const h = webhook(receiver.url, outcomes, { maxQueue: 2 });
    const started = performance.now();
    for (let n = 1; n <= 5; n++) h.send({ n });
    expect(performance.now() - started).toBeLessThan(100); // queued, not sent inline
    // n=1 is in flight; n=2..5 compete for 2 places: n=2 and n=3 are dropped.
    await receiver.until(3);
    expect(receiver.received.map((r) => r.body)).toEqual([{ n: 1 }, { n: 4 }, { n: 5 }]);
    expect(outcomes.filter(([o]) => o === 'dropped')).toHaveLength(2);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new AlertWebhook({ url: 'file:///etc/passwd' })).toThrow(TypeError);
  });
});
