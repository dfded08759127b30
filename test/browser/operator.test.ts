import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { callJson, PROCESS_ADMIN_TOKEN } from '../helpers/server-process.ts';
import {
  type ConsoleServer,
  collectPageErrors,
  describeBrowser,
  launchBrowser,
  saveScreenshot,
  screenshotsEnabled,
  startConsoleServer,
  stopAllServerProcesses,
} from './harness.ts';

/**
 * The operator page against a real `continuum serve` process: real traffic
 * over HTTP (turns with model replies, a 404), an open SSE follower and an
 * open sync WebSocket, and the page's charts, numbers, readiness list and
 * alert list drawn from what the server reports.
 */

/** Keeps real traffic flowing at a server until stopped: turns with replies, and a 404 now and then. */
function startTraffic(url: string, token: string, conversationId: string) {
  let stopped = false;
  let turns = 0;
  const done = (async () => {
    let expectedTurn = 0;
    while (!stopped) {
      const res = await callJson<{ turn: { number: number }; reply?: { number: number } }>(
        url,
        'POST',
        `/v1/conversations/${conversationId}/turns`,
        {
          token,
          body: { role: 'user', content: `Blood pressure reading ${turns}: 128/82.`, expectedTurn, respond: true },
        },
      );
      if (res.status !== 201) throw new Error(`append: ${res.status} ${JSON.stringify(res.body)}`);
      expectedTurn = res.body.reply?.number ?? res.body.turn.number;
      turns++;
      if (turns % 3 === 0) {
        const missing = await callJson(url, 'GET', '/v1/conversations/cnv_does_not_exist', { token });
        if (missing.status !== 404) throw new Error(`expected 404, got ${missing.status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** `expect.poll` with room for a loaded 2-core machine (vitest's default is 1 s). */
function poll<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 60_000, interval: 200 });
}

/** The chart figure whose visible title is `title`. */
function chart(page: Page, title: string): Locator {
  return page.locator('figure.chart', { has: page.locator('.chart__title', { hasText: title }) });
}

/** Wait until a chart has a drawn line of at least two points for series `i`. */
async function waitForLine(page: Page, title: string, i: number): Promise<string> {
  const path = chart(page, title).locator(`path.chart__line--${i}`);
  await poll(async () => ((await path.count()) > 0 ? await path.getAttribute('d') : '')).toMatch(/^M[\d.]+,[\d.]+L/);
  return (await path.getAttribute('d'))!;
}

describeBrowser('the operator page (/console/operator)', () => {
  let browser: Browser;
  let server: ConsoleServer;
  let token: string;
  let conversationId: string;
  let follower: AbortController;
  let socket: WebSocket;

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startConsoleServer({ tenantName: 'operator-page' })]);
    const issued = await callJson<{ access_token: string }>(server.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'api_key', api_key: server.apiKey, subject: 'patient-12', scope: 'conversations' },
    });
    expect(issued.status).toBe(200);
    token = issued.body.access_token;
    const created = await callJson<{ id: string }>(server.url, 'POST', '/v1/conversations', { token, body: {} });
    expect(created.status).toBe(201);
    conversationId = created.body.id;

    // One SSE follower and one sync WebSocket stay open for the stream gauges.
    follower = new AbortController();
    const events = await fetch(`${server.url}/v1/conversations/${conversationId}/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: follower.signal,
    });
    expect(events.status).toBe(200);
    void events.body!.pipeTo(new WritableStream()).catch(() => undefined);
    socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/conversations/${conversationId}/sync`);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === 'ready') resolve();
      });
    });
  });

  afterAll(async () => {
    follower?.abort();
    socket?.close();
    await browser?.close();
    await server?.stop();
    await stopAllServerProcesses();
  });

  it('charts latency, error rate, continuity and open streams from live /metrics scrapes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    const traffic = startTraffic(server.url, token, conversationId);
    try {
      await page.goto(`${server.url}/console/operator`);
      await poll(() => page.title()).toBe('Operator · Continuum console');
      await page.selectOption('#op-interval', '2000');

      const latencyLine = await waitForLine(page, 'API latency', 1);
      await waitForLine(page, 'API latency', 0);
      await waitForLine(page, 'Error rate', 0);
      await waitForLine(page, 'Conversation continuity', 1);
      await waitForLine(page, 'Open connections', 0);
      expect(latencyLine.split('L').length).toBeGreaterThanOrEqual(2);

      // The SVGs say what they show, in words.
      const latencyLabel = await chart(page, 'API latency').locator('svg.chart__plot').getAttribute('aria-label');
      expect(latencyLabel).toMatch(/^API latency, last [\d.]+ (s|min): now p50 (no data|[\d.]+ (µs|ms|s)), p99/);
      await poll(() => chart(page, 'Open connections').locator('svg.chart__plot').getAttribute('aria-label')).toMatch(
        /now SSE streams 1, WebSockets 1$/,
      );
      await poll(() =>
        chart(page, 'Conversation continuity').locator('svg.chart__plot').getAttribute('aria-label'),
      ).toMatch(/since start 100%$/);
      // ...and as a table for screen readers.
      expect(await chart(page, 'API latency').locator('table tbody tr').count()).toBeGreaterThanOrEqual(2);

      // Big numbers: every turn found its context; one stream and one socket are open.
      await poll(() => page.textContent('#stat-continuity')).toBe('100%');
      await poll(() => page.textContent('#stat-sse')).toBe('1');
      await poll(() => page.textContent('#stat-sockets-note')).toBe('1 WebSocket connection');
      await poll(() => page.textContent('#stat-latency')).toMatch(/^[\d.]+ (µs|ms|s)$/);
      await poll(() => page.textContent('#stat-errors')).toBe('0%');
      // The page's own scrapes are not API traffic; the appends are.
      await poll(() => page.locator('#op-routes-body td:first-child').allTextContents()).toContain(
        'POST /v1/conversations/:id/turns',
      );
      expect(await page.locator('#op-routes-body td:first-child').allTextContents()).not.toContain('GET /metrics');

      // Readiness lists every component, each passing.
      await poll(() => page.locator('#op-checks li').count()).toBe(5);
      expect(await page.locator('#op-checks li[data-ok="true"]').count()).toBe(5);
      expect(await page.textContent('#op-ready-status')).toBe('Ready (HTTP 200)');

      // Alerts need the operator token: a wrong one is refused, the right one lists them.
      await page.fill('#op-token', 'not-the-operator-token');
      await page.press('#op-token', 'Enter');
      await poll(() => page.textContent('#op-alerts-status')).toMatch(/refused this operator token \(401\)/);
      await page.click('#op-token-forget');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('op-token');
      await page.fill('#op-token', PROCESS_ADMIN_TOKEN);
      await page.click('#op-token-form button[type="submit"]');
      await poll(() => page.textContent('#op-alerts-status')).toMatch(/^No alerts firing\./);

      // Pause and resume from the keyboard.
      await page.focus('#op-pause');
      await page.keyboard.press('Enter');
      await poll(() => page.textContent('#op-state')).toBe('Paused');
      expect(await page.textContent('#op-pause')).toBe('Resume');
      await page.keyboard.press('Space');
      await poll(() => page.textContent('#op-state')).toBe('Live');
      expect(await page.textContent('#op-pause')).toBe('Pause');

      if (screenshotsEnabled) {
        // A picture for the README wants a minute of history, not the few seconds the checks above need.
        const points = async () => ((await waitForLine(page, 'API latency', 1)).match(/[ML]/g) ?? []).length;
        await poll(points).toBeGreaterThanOrEqual(25);
      }
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await saveScreenshot(page, 'console-operator');
      // Chromium logs every 4xx fetch; the one 401 is the wrong token tried above, nothing else may appear.
      expect(errors).toEqual([
        'console.error: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
      ]);
    } finally {
      await traffic.stop();
      await page.close();
    }
  });

  it('fits a phone-sized screen: charts stack in one column and nothing scrolls sideways', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const errors = collectPageErrors(page);
    try {
      await page.goto(`${server.url}/console/operator`);
      await waitForLine(page, 'Open connections', 0);
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        charts: [...document.querySelectorAll('figure.chart')].map((figure) => {
          const box = figure.getBoundingClientRect();
          return { left: Math.round(box.left), right: Math.round(box.right) };
        }),
      }));
      expect(layout.clientWidth).toBe(375);
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
      expect(layout.charts).toHaveLength(4);
      for (const box of layout.charts) {
        expect(box).toEqual(layout.charts[0]);
        expect(box.right).toBeLessThanOrEqual(375);
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says plainly that there is nothing to chart when the server sends metrics as EMF', async () => {
    const emf = await startConsoleServer({ env: { CONTINUUM_METRICS: 'emf' }, tenantName: 'operator-emf' });
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    try {
      await page.goto(`${emf.url}/console/operator`);
      await poll(() => page.textContent('#op-notice')).toMatch(/CONTINUUM_METRICS=emf\), so \/metrics answers 404/);
      expect(await page.textContent('#op-state')).toBe('No metrics');
      // No dashes and empty charts: the numbers and charts are not shown at all.
      expect(await page.isHidden('#op-now')).toBe(true);
      expect(await page.isHidden('#op-over-time')).toBe(true);
      // Readiness does not depend on /metrics.
      await poll(() => page.locator('#op-checks li').count()).toBe(5);
    } finally {
      await page.close();
      await emf.stop();
    }
  });
});
