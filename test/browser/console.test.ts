import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callJson } from '../helpers/server-process.ts';
import {
  type ConsoleServer,
  collectPageErrors,
  describeBrowser,
  launchBrowser,
  lowContrastTexts,
  overflowsHorizontally,
  saveScreenshot,
  startConsoleServer,
  stopAllServerProcesses,
} from './harness.ts';

/**
 * The web console in headless Chromium against a real `continuum serve`
 * process: sign in, start a conversation, watch a reply stream in, see the
 * same turns arrive live in a second tab through sync, read the fact in the
 * working-context panel, send with the keyboard alone, and fit a phone.
 * With CONTINUUM_SCREENSHOTS=1 it also saves the README's screenshots.
 */

const SUBJECT = 'patient-7';
const MESSAGE = 'I take metformin 500 mg twice a day.';
/** The second message, typed in two lines. */
const SECOND = ['I am allergic to penicillin.', 'It gives me a rash.'] as const;
/** Slow enough that a reply takes seconds, so its growth can be watched. */
const WORD_DELAY_MS = '80';
const STEP_TIMEOUT = 30_000;

/** Problems a page reported; a failed request the test provoked on purpose shows up as a resource error and is left out. */
const realErrors = (errors: string[]) => errors.filter((line) => !line.includes('Failed to load resource'));

async function signIn(page: Page, server: ConsoleServer, apiKey = server.apiKey): Promise<void> {
  await page.getByLabel('API key').fill(apiKey);
  await page.getByLabel('Subject').fill(SUBJECT);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Wait until the page's sync connection says it is live. */
async function waitLive(page: Page): Promise<void> {
  await page.locator('#sync-status[data-state="open"]').waitFor({ timeout: STEP_TIMEOUT });
}

/**
 * Record, inside the page, every length the streaming reply bubble's text
 * takes (a MutationObserver sees each DOM change, however fast), until a
 * stored assistant turn numbered `replyTurn` is shown.
 */
async function recordStream(page: Page, replyTurn: number): Promise<void> {
  await page.evaluate((turn) => {
    const lengths: number[] = [];
    const w = window as unknown as { __stream: { lengths: number[]; done: boolean } };
    w.__stream = { lengths, done: false };
    const list = document.getElementById('transcript')!;
    const observer = new MutationObserver(() => {
      const streaming = list.querySelector('li[data-streaming="true"] .turn__text');
      if (streaming) lengths.push(streaming.textContent?.length ?? 0);
      if (list.querySelector(`li[data-turn="${turn}"][data-role="assistant"]`)) {
        w.__stream.done = true;
        observer.disconnect();
      }
    });
    observer.observe(list, { childList: true, subtree: true, characterData: true });
  }, replyTurn);
}

/** The distinct partial lengths recorded by {@link recordStream}, once the reply is stored. */
async function streamedLengths(page: Page): Promise<number[]> {
  await page.waitForFunction(() => (window as unknown as { __stream: { done: boolean } }).__stream.done, undefined, {
    timeout: STEP_TIMEOUT,
  });
  const lengths = await page.evaluate(
    () => (window as unknown as { __stream: { lengths: number[] } }).__stream.lengths,
  );
  return [...new Set(lengths.filter((n) => n > 0))];
}

/** The presence line, once it says exactly `text`. */
const presence = (page: Page, text: string) => page.locator('#presence', { hasText: new RegExp(`^${text}$`) });

const turnText = (page: Page, turn: number) => page.locator(`#transcript li[data-turn="${turn}"] .turn__text`);

describeBrowser('the web console in Chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let desktop: BrowserContext;
  let page1: Page;
  let page2: Page;
  let conversationId: string;
  const errors: string[][] = [];

  beforeAll(async () => {
    server = await startConsoleServer({ env: { CONTINUUM_LOCAL_WORD_DELAY_MS: WORD_DELAY_MS } });
    browser = await launchBrowser();
    desktop = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await stopAllServerProcesses();
  });

  it('shows the sign-in form with labelled fields, and a wrong key as a problem code in the alert region', async () => {
    page1 = await desktop.newPage();
    errors.push(collectPageErrors(page1));
    await page1.goto(`${server.url}/console`);
    const key = page1.getByLabel('API key');
    await expect(key.getAttribute('type')).resolves.toBe('password');
    await expect(page1.getByLabel('Subject').isVisible()).resolves.toBe(true);
    await saveScreenshot(page1, 'console-signin');
    expect(await lowContrastTexts(page1)).toEqual([]);

    await signIn(page1, server, 'ck.tnt_nosuchtenant.notakey');
    const alert = page1.getByRole('alert');
    await alert.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    expect(await page1.locator('#alert-code').textContent()).toBe('invalid_grant');
    expect(await page1.locator('#signin-view').isVisible()).toBe(true);
  });

  it('signs in with the SDK and starts a conversation', async () => {
    await signIn(page1, server);
    await page1.locator('#app-view').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    expect(await page1.locator('#alert').isHidden()).toBe(true);
    expect(await page1.locator('#session-subject').textContent()).toBe(SUBJECT);
    // The key is not kept in the page once it has been exchanged for tokens, nor in storage.
    expect(await page1.getByLabel('API key').inputValue()).toBe('');
    const stored = await page1.evaluate(
      () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
    );
    expect(stored).not.toContain(server.apiKey);

    await page1.getByRole('button', { name: 'New conversation' }).click();
    await page1.locator('#composer').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    await waitLive(page1);
    const match = /#\/conversations\/(.+)$/.exec(page1.url());
    expect(match, page1.url()).not.toBeNull();
    conversationId = decodeURIComponent(match![1]!);
    expect(await page1.locator('#conversation-list button[aria-current="true"]').count()).toBe(1);
  });

  it('streams the reply into the transcript, and a second tab sees the turn and the reply arrive live', async () => {
    page2 = await desktop.newPage();
    errors.push(collectPageErrors(page2));
    await page2.goto(`${server.url}/console#/conversations/${conversationId}`);
    await signIn(page2, server);
    await page2.locator('#composer').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    await waitLive(page2);

    await recordStream(page1, 2);
    await recordStream(page2, 2);
    await page1.locator('#message').fill(MESSAGE);
    await page1.getByRole('button', { name: 'Send' }).click();

    // Page 1: the reply grew before it was done (at least two partial lengths seen).
    const partial1 = await streamedLengths(page1);
    const reply1 = (await turnText(page1, 2).textContent()) ?? '';
    expect(partial1.filter((n) => n < reply1.length).length, `lengths seen: ${partial1}`).toBeGreaterThanOrEqual(2);

    // Page 2, which sent nothing: the user's turn and the reply arrived through sync, the reply delta by delta too.
    await turnText(page2, 1).waitFor({ timeout: STEP_TIMEOUT });
    expect(await turnText(page2, 1).textContent()).toBe(MESSAGE);
    const partial2 = await streamedLengths(page2);
    const reply2 = (await turnText(page2, 2).textContent()) ?? '';
    expect(partial2.filter((n) => n < reply2.length).length, `lengths seen: ${partial2}`).toBeGreaterThanOrEqual(1);

    // Both show exactly the stored reply: no delta lost or drawn twice though two sources carried them.
    const token = await callJson<{ access_token: string }>(server.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'api_key', api_key: server.apiKey, subject: SUBJECT },
    });
    const turns = await callJson<{ items: { number: number; content: string }[] }>(
      server.url,
      'GET',
      `/v1/conversations/${conversationId}/turns`,
      { token: token.body.access_token },
    );
    const stored = turns.body.items.find((turn) => turn.number === 2)?.content;
    expect(stored).toBeTruthy();
    expect(reply1).toBe(stored);
    expect(reply2).toBe(stored);
    expect(await page1.locator('#transcript li[data-role="assistant"]').count()).toBe(1);
    expect(await page2.locator('#transcript li[data-role="assistant"]').count()).toBe(1);
  });

  it('shows who else has the conversation open: the same subject in the other tab is “you in another tab”', async () => {
    // Page 2 learnt of page 1 from its `subscribed` list; page 1 of page 2 from a `presence` event.
    for (const page of [page1, page2]) {
      await presence(page, 'Also here: you in another tab').waitFor({ timeout: STEP_TIMEOUT });
      expect(await page.locator('#presence').getAttribute('aria-live')).toBe('polite');
    }
  });

  it('the side panel shows the working context: the fact from the message, summary, recent turns, token budget', async () => {
    for (const page of [page1, page2]) {
      await page.locator('#profile', { hasText: 'metformin' }).waitFor({ timeout: STEP_TIMEOUT });
      expect(await page.locator('#profile').textContent()).toContain('500 mg');
      // Read again once the reply was stored: both turns are among the recent ones.
      await page.locator('#recent li').nth(1).waitFor({ timeout: STEP_TIMEOUT });
      expect(await page.locator('#budget-text').textContent()).toMatch(/^\d[\d,.\s]* of \d[\d,.\s]* tokens/);
      expect((await page.locator('#summary').textContent())?.length).toBeGreaterThan(0);
    }
  });

  it('is usable with the keyboard alone: Tab reaches the composer, Shift+Enter adds a line, Enter sends', async () => {
    await page2.locator('#context-title').click(); // a neutral starting point, after the composer in tab order
    await page2.keyboard.press('Shift+Tab');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      reached = await page2.evaluate(() => document.activeElement?.id === 'message');
      if (!reached) await page2.keyboard.press('Tab');
    }
    expect(reached, 'Tab never reached the message field').toBe(true);
    // Focus is visible where it lands.
    const outline = await page2.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');

    await page2.keyboard.type(SECOND[0]);
    await page2.keyboard.press('Shift+Enter');
    await page2.keyboard.type(SECOND[1]);
    expect(await page2.locator('#message').inputValue()).toBe(SECOND.join('\n'));
    await page2.keyboard.press('Enter');

    // Sent from page 2; page 1 sees the turn and, later, its reply.
    await turnText(page1, 3).waitFor({ timeout: STEP_TIMEOUT });
    expect(await turnText(page1, 3).textContent()).toBe(SECOND.join('\n'));
    await page1.locator('#transcript li[data-turn="4"][data-role="assistant"]').waitFor({ timeout: STEP_TIMEOUT });
    await page2.locator('#transcript li[data-turn="4"][data-role="assistant"]').waitFor({ timeout: STEP_TIMEOUT });
    expect(await page2.locator('#message').inputValue()).toBe('');
    await page1.locator('#profile', { hasText: 'penicillin' }).waitFor({ timeout: STEP_TIMEOUT });
    await page1.locator('#recent li[value="4"]').waitFor({ timeout: STEP_TIMEOUT });
    await page1.mouse.move(0, 0);
    await saveScreenshot(page1, 'console-conversation');
    expect(await lowContrastTexts(page1)).toEqual([]);
  });

  it('fits a phone-sized screen (375×812): no horizontal scroll, the context behind a toggle', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    try {
      const page = await phone.newPage();
      errors.push(collectPageErrors(page));
      await page.goto(`${server.url}/console`);
      expect(await overflowsHorizontally(page)).toBe(false);
      await signIn(page, server);
      await page.locator('#app-view').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
      expect(await overflowsHorizontally(page)).toBe(false);

      await page.locator(`#conversation-list button[data-id="${conversationId}"]`).click();
      await turnText(page, 4).waitFor({ timeout: STEP_TIMEOUT });
      await waitLive(page);
      // A third tab of the same subject: the others count it, and it sees both of them.
      await presence(page1, 'Also here: you in 2 other tabs').waitFor({ timeout: STEP_TIMEOUT });
      await presence(page, 'Also here: you in 2 other tabs').waitFor({ timeout: STEP_TIMEOUT });
      // One column: the list gives way to the conversation, the context waits behind its toggle.
      expect(await page.locator('#conversation-list').isVisible()).toBe(false);
      expect(await page.locator('#context-panel').isVisible()).toBe(false);
      const toggle = page.getByRole('button', { name: 'Context' });
      expect(await toggle.getAttribute('aria-expanded')).toBe('false');
      expect(await overflowsHorizontally(page)).toBe(false);
      await saveScreenshot(page, 'console-phone');
      expect(await lowContrastTexts(page)).toEqual([]);

      await toggle.click();
      expect(await page.getByRole('button', { name: 'Hide context' }).getAttribute('aria-expanded')).toBe('true');
      await page.locator('#profile', { hasText: 'metformin' }).waitFor({ timeout: STEP_TIMEOUT });
      expect(await overflowsHorizontally(page)).toBe(false);

      await page.getByRole('button', { name: 'Conversations' }).first().click();
      await page.locator('#conversation-list').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
      // Back to the list: that tab no longer follows the conversation, and the others hear it left.
      await presence(page1, 'Also here: you in another tab').waitFor({ timeout: STEP_TIMEOUT });
    } finally {
      await phone.close();
    }
  });

  it('lists conversations newest first, a page at a time', async () => {
    const subject = 'patient-8';
    const token = await callJson<{ access_token: string }>(server.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'api_key', api_key: server.apiKey, subject },
    });
    for (let i = 1; i <= 23; i++) {
      const created = await callJson(server.url, 'POST', '/v1/conversations', {
        token: token.body.access_token,
        body: { title: `Visit ${i}` },
      });
      expect(created.status).toBe(201);
    }
    const page = await desktop.newPage();
    errors.push(collectPageErrors(page));
    try {
      await page.goto(`${server.url}/console`);
      await page.getByLabel('API key').fill(server.apiKey);
      await page.getByLabel('Subject').fill(subject);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const items = page.locator('#conversation-list button');
      await items.nth(19).waitFor({ timeout: STEP_TIMEOUT });
      expect(await items.count()).toBe(20);
      expect(await items.first().locator('.conversation-list__title').textContent()).toBe('Visit 23');
      await page.getByRole('button', { name: 'Load more' }).click();
      await items.nth(22).waitFor({ timeout: STEP_TIMEOUT });
      expect(await items.count()).toBe(23);
      expect(await items.last().locator('.conversation-list__title').textContent()).toBe('Visit 1');
      expect(await page.locator('#load-more').isHidden()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('signs out: back to the sign-in form, and the pages logged no script error', async () => {
    await page1.getByRole('button', { name: 'Sign out' }).click();
    await page1.locator('#signin-view').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    expect(await page1.locator('#app-view').isHidden()).toBe(true);
    expect(await page1.locator('#transcript li').count()).toBe(0);
    expect(errors.flatMap(realErrors)).toEqual([]);
  });
});
