// The conversation inside a session (issue 16), end to end: a customer and a staff member chat
// live in two browsers (realtime, then with realtime cut: polling only); a message written
// offline is delivered exactly once when the connection is back, and so is one whose answer
// was lost; at the kiosk, "Ask the concierge" gets the server's automatic reply, and the idle
// reset wipes the conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, rest } from './harness.mjs';

const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff', name: 'Priya Sharma' };
// The concierge stays out of the customer/staff chats (its reply would be one more line).
const NO_CONCIERGE = ['--concierge-reply-delay-ms', '600000'];

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function signUp(page, baseUrl, name) {
  await page.goto(`${baseUrl}/session`);
  await page.getByTestId('tab-sign-up').waitFor({ timeout: 15000 });
  await page.getByTestId('tab-sign-up').click();
  await page.getByTestId('auth-name').fill(name);
  await page.getByTestId('auth-email').fill(`${name.split(' ')[0].toLowerCase()}-${Date.now()}@guest.test`);
  await page.getByTestId('auth-password').fill('correct-horse');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('request-topic').waitFor({ timeout: 10000 });
}

async function staffSignIn(page, baseUrl) {
  await page.goto(`${baseUrl}/staff`);
  await page.getByTestId('auth-email').fill(STAFF.email);
  await page.getByTestId('auth-password').fill(STAFF.password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('pending-list').waitFor({ timeout: 10000 });
}

/** Types `text` into the page's (first visible) composer and presses Enter. */
async function send(scope, text) {
  const input = scope.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
}

/** The stored line whose body is `text`, in `scope`. */
const line = (scope, text) => scope.locator('[data-testid="message"]', { hasText: text });
const stored = (scope, text) => scope.locator('[data-testid="message"][data-delivery="stored"]', { hasText: text });

/** Messages of a session with `body`, as the database holds them (service role). */
async function rowsWith(server, body) {
  const r = await rest(server, 'GET', `messages?select=id,author_role,body&body=eq.${encodeURIComponent(body)}`);
  assert.equal(r.status, 200);
  return r.body;
}

/** Customer requests a session; staff accept it. Returns both pages and the session id. */
async function openSession(server, topic, { customerViewport } = {}) {
  const customer = await newPage(browser, customerViewport ?? { width: 1280, height: 900 });
  await signUp(customer, server.baseUrl, 'Meera Rao');
  await customer.getByTestId('request-topic').fill(topic);
  await customer.getByTestId('request-submit').click();
  await customer.getByTestId('conversation').waitFor({ timeout: 8000 });
  const staff = await newPage(browser, { width: 1440, height: 1000 });
  await staffSignIn(staff, server.baseUrl);
  const card = staff.locator('[data-testid="session-card"]', { hasText: topic });
  await card.waitFor({ timeout: 8000 });
  const sessionId = await card.getAttribute('data-session-id');
  await card.getByTestId('action-waiting').click();
  const chat = staff.locator(`[data-testid="staff-conversations"] [data-session-id="${sessionId}"]`);
  await chat.waitFor({ timeout: 8000 });
  return { customer, staff, chat, sessionId };
}

test('a customer and a staff member chat live (realtime); offline and lost answers deliver once', async () => {
  const server = await startServer({ args: NO_CONCIERGE, appConfig: { poll_base_ms: 10000 } });
  try {
    const { customer, staff, chat } = await openSession(server, 'Dinner for two tonight');
    const log = customer.locator('[role="log"][data-testid="message-list"]');
    assert.equal(await log.getAttribute('aria-live'), 'polite');

    // Customer → staff; the optimistic line becomes the stored one (same id, shown once).
    await send(customer, 'Hello! Can you book a table for 8 pm?');
    await stored(customer, 'Can you book a table').waitFor({ timeout: 5000 });
    assert.equal(await line(customer, 'Can you book a table').count(), 1);
    await stored(chat, 'Can you book a table').waitFor({ timeout: 5000 });
    assert.equal(await line(chat, 'Can you book a table').locator('.msg__author').textContent(), 'Meera Rao');

    // Staff → customer, with the staff member's name; Shift+Enter is a new line, Enter sends.
    const input = chat.getByTestId('message-input');
    await input.fill('Of course.');
    await input.press('Shift+Enter');
    await input.type('Window table, 8 pm, booked.');
    assert.equal(await input.inputValue(), 'Of course.\nWindow table, 8 pm, booked.');
    await input.press('Enter');
    const reply = stored(customer, 'Window table');
    await reply.waitFor({ timeout: 5000 });
    assert.equal(await reply.locator('.msg__author').textContent(), STAFF.name);
    assert.equal(await reply.getByTestId('message-body').textContent(), 'Of course.\nWindow table, 8 pm, booked.');
    assert.equal(await input.inputValue(), '', 'the composer empties after sending');

    // Collapsed: the banner counts what arrives, and opens the conversation.
    await customer.getByTestId('conversation-toggle').click();
    assert.equal(await customer.getByTestId('conversation-toggle').getAttribute('aria-expanded'), 'false');
    await send(chat, 'Anything else I can do?');
    await customer.getByTestId('banner-unread').waitFor({ timeout: 5000 });
    assert.equal(await customer.getByTestId('banner-unread').textContent(), '1 new message');
    assert.equal(await customer.getByTestId('conversation-unread').textContent(), '1');
    await customer.getByTestId('banner-unread').click();
    await stored(customer, 'Anything else').waitFor({ timeout: 2000 });
    assert.equal(await customer.getByTestId('banner-unread').isHidden(), true);

    await staff.setViewportSize({ width: 1440, height: 1000 });
    await screenshot(staff, 'conversation-staff', { fullPage: true });

    // Offline: the message waits, then goes out once when the connection is back.
    const ctx = customer.context();
    await ctx.setOffline(true);
    await send(customer, 'Written while offline');
    const waiting = customer.locator('[data-testid="message"][data-delivery="waiting"]', { hasText: 'Written while offline' });
    await waiting.waitFor({ timeout: 5000 });
    assert.match(await waiting.getByTestId('message-state').textContent(), /offline/);
    assert.equal((await rowsWith(server, 'Written while offline')).length, 0, 'nothing reached the server');
    await ctx.setOffline(false);
    await stored(customer, 'Written while offline').waitFor({ timeout: 15000 });
    await stored(chat, 'Written while offline').waitFor({ timeout: 15000 });
    assert.equal((await rowsWith(server, 'Written while offline')).length, 1, 'stored exactly once');
    assert.equal(await line(chat, 'Written while offline').count(), 1);
    assert.equal(await line(customer, 'Written while offline').count(), 1);

    // The answer is lost on the way back, but the row was stored: the row itself (realtime)
    // ends the optimistic line, which shows once, stored, and is never sent again. (A retry of
    // such a message gets 409 and counts as sent: the outbox's native tests.)
    let posts = 0;
    await customer.route('**/rest/v1/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posts += 1;
      if (posts > 1) return route.continue();
      await route.fetch();
      return route.abort('internetdisconnected');
    });
    await send(customer, 'Stored but answer lost');
    await stored(customer, 'Stored but answer lost').waitFor({ timeout: 10000 });
    await stored(chat, 'Stored but answer lost').waitFor({ timeout: 10000 });
    await customer.waitForTimeout(500);
    assert.equal(posts, 1, 'not sent again once its row arrived');
    assert.equal((await rowsWith(server, 'Stored but answer lost')).length, 1);
    assert.equal(await line(customer, 'Stored but answer lost').count(), 1);
    await customer.unroute('**/rest/v1/messages');

    // On a phone: readable, no sideways scrolling.
    await customer.setViewportSize({ width: 360, height: 740 });
    await customer.getByTestId('conversation').scrollIntoViewIfNeeded();
    const overflow = await customer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scroll at 360 px (overflow ${overflow}px)`);
    await screenshot(customer, 'conversation-phone', { fullPage: true });

    const expected = /Failed to load resource|ERR_INTERNET_DISCONNECTED|status of 409|WebSocket|poll failed/;
    for (const p of [customer, staff]) assert.deepEqual(p.consoleErrors.filter((e) => !expected.test(e)), [], 'no console errors');
    for (const p of [customer, staff]) await p.context().close();
  } finally {
    await server.dispose();
  }
});

test('with realtime cut, messages still arrive through polling', async () => {
  const server = await startServer({
    args: NO_CONCIERGE,
    appConfig: { realtime_enabled: false, poll_base_ms: 300, poll_max_ms: 600 },
  });
  try {
    const { customer, staff, chat } = await openSession(server, 'Late checkout');
    await send(customer, 'May I check out at 2 pm?');
    await stored(chat, 'check out at 2 pm').waitFor({ timeout: 8000 });
    await send(chat, 'Yes, 2 pm is fine.');
    await stored(customer, '2 pm is fine').waitFor({ timeout: 8000 });
    assert.equal(await line(customer, 'check out at 2 pm').count(), 1);
    assert.equal(await line(customer, '2 pm is fine').count(), 1);
    assert.equal(await customer.getByTestId('connection').getAttribute('data-state'), 'polling');
    for (const p of [customer, staff]) assert.deepEqual(p.consoleErrors, [], 'no console errors');
    for (const p of [customer, staff]) await p.context().close();
  } finally {
    await server.dispose();
  }
});

test('the concierge answers an unanswered kiosk question; the idle reset wipes the conversation', async () => {
  const server = await startServer({
    args: ['--concierge-reply-delay-ms', '800'],
    appConfig: { poll_base_ms: 10000, idle_timeout_ms: 60000, idle_warning_ms: 20000 },
  });
  try {
    const page = await newPage(browser, { width: 1920, height: 1080 });
    await page.goto(`${server.baseUrl}/kiosk`);
    await page.getByTestId('attract').waitFor({ timeout: 15000 });
    assert.equal(await page.getByTestId('ask-concierge').isVisible(), false, 'not on the attract screen');
    await page.getByTestId('attract').click({ position: { x: 200, y: 300 } });
    await page.getByTestId('ask-concierge').click();
    const sheet = page.getByTestId('kiosk-chat');
    // The caret is in the text field at once.
    await page.waitForFunction(() => document.activeElement?.matches('#kiosk-chat textarea'), null, { timeout: 3000 });
    await send(sheet, 'Is there any live music tonight?');
    await stored(sheet, 'live music tonight').waitFor({ timeout: 5000 });
    const answer = sheet.locator('[data-testid="message"][data-author="concierge"]');
    await answer.waitFor({ timeout: 10000 });
    assert.match(await answer.locator('.msg__author').textContent(), /Concierge/);
    assert.ok((await answer.getByTestId('message-body').textContent()).length > 20, 'a real answer');
    assert.equal(await answer.count(), 1, 'answered once');
    await screenshot(page, 'conversation-kiosk');

    // Escape closes the sheet and gives focus back to the button; reopening keeps the lines.
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden', timeout: 2000 });
    await page.waitForFunction(() => document.activeElement?.dataset.testid === 'ask-concierge', null, { timeout: 3000 });
    await page.keyboard.press('Enter');
    await sheet.waitFor({ state: 'visible', timeout: 2000 });
    assert.equal(await sheet.getByTestId('message').count(), 2, 'the question and its answer, still there');

    // Start over: a new guest, a new kiosk user, an empty conversation.
    await page.getByRole('button', { name: 'Start over' }).first().click();
    await page.getByTestId('attract').waitFor({ timeout: 10000 });
    await page.getByTestId('attract').click({ position: { x: 200, y: 300 } });
    await page.getByTestId('ask-concierge').click();
    await page.getByTestId('kiosk-chat').locator('.chat__empty').waitFor({ state: 'visible', timeout: 8000 });
    assert.equal(await page.getByTestId('message').count(), 0, 'the next guest sees nothing of it');

    // The kiosk on a phone-sized screen (a guest's own phone scanning the screen's QR is not
    // this; the kiosk page is simply narrow here) stays usable.
    await page.setViewportSize({ width: 360, height: 740 });
    await send(page.getByTestId('kiosk-chat'), 'A taxi to the airport at 6 am?');
    await page.getByTestId('kiosk-chat').locator('[data-author="concierge"]').waitFor({ timeout: 10000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scroll at 360 px (overflow ${overflow}px)`);
    await screenshot(page, 'conversation-kiosk-phone');
    assert.deepEqual(page.consoleErrors, [], 'no console errors');
    await page.context().close();
  } finally {
    await server.dispose();
  }
});
