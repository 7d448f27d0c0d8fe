// Presence and typing in a session's conversation (issue 16), end to end, over the private
// Broadcast + Presence channel `session:<id>`: the customer sees "Priya is here" while the staff
// member holding the session has it open, and not after her tab closes; each side sees the
// other typing, and the indicator ends by itself a few seconds after the typing stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from './harness.mjs';

const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff', name: 'Priya Sharma' };
// The concierge stays out of the chat (its reply would be one more line).
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

/** The text of a conversation's presence line (a polite status region). */
async function presenceText(scope) {
  return ((await scope.getByTestId('conversation-presence').textContent()) ?? '').trim();
}

async function waitPresence(scope, want, timeout = 8000) {
  const t0 = Date.now();
  for (;;) {
    const got = await presenceText(scope);
    if (want instanceof RegExp ? want.test(got) : got === want) return Date.now() - t0;
    if (Date.now() - t0 > timeout) assert.fail(`presence line: wanted ${want}, still "${got}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('presence and typing in a session conversation: appear, expire, and leave with the tab', async () => {
  const server = await startServer({ args: NO_CONCIERGE, appConfig: { poll_base_ms: 10000 } });
  try {
    const customer = await newPage(browser, { width: 390, height: 844 });
    await signUp(customer, server.baseUrl, 'Meera Rao');
    await customer.getByTestId('request-topic').fill('A late checkout, please');
    await customer.getByTestId('request-submit').click();
    await customer.getByTestId('conversation').waitFor({ timeout: 8000 });
    const region = customer.getByTestId('conversation-presence');
    assert.equal(await region.getAttribute('role'), 'status', 'the line is a polite status region');
    assert.equal(await presenceText(customer), '', 'nobody from the hotel is here yet');

    const staff = await newPage(browser, { width: 1440, height: 1000 });
    await staffSignIn(staff, server.baseUrl);
    const card = staff.locator('[data-testid="session-card"]', { hasText: 'A late checkout' });
    await card.waitFor({ timeout: 8000 });
    const sessionId = await card.getAttribute('data-session-id');
    await card.getByTestId('action-waiting').click();
    const chat = staff.locator(`[data-testid="staff-conversations"] [data-session-id="${sessionId}"]`);
    await chat.waitFor({ timeout: 8000 });

    // Both are in the room: each sees the other.
    const tHere = await waitPresence(customer, `${STAFF.name} is here`);
    await waitPresence(chat, 'Meera Rao is here');

    // Staff type: the customer sees it, then it ends by itself (no message sent).
    await chat.getByTestId('message-input').pressSequentially('Good morning', { delay: 30 });
    const tTyping = await waitPresence(customer, `${STAFF.name} is typing…`, 4000);
    await screenshot(customer, 'conversation-typing-phone');
    await screenshot(staff, 'conversation-presence-staff');
    await waitPresence(customer, `${STAFF.name} is here`, 8000);

    // A message ends its author's indicator when it arrives (not the 5 s expiry later).
    await chat.getByTestId('message-input').pressSequentially('Of course', { delay: 30 });
    await waitPresence(customer, `${STAFF.name} is typing…`, 4000);
    await chat.getByTestId('message-input').press('Enter');
    await customer.locator('[data-testid="message"]', { hasText: 'Of course' }).waitFor({ timeout: 4000 });
    await waitPresence(customer, `${STAFF.name} is here`, 1500);

    // And the other way round.
    await customer.getByTestId('message-input').pressSequentially('Hello', { delay: 30 });
    await waitPresence(chat, 'Meera Rao is typing…', 4000);
    await waitPresence(chat, 'Meera Rao is here', 8000);

    // The staff tab closes: Priya is no longer here.
    await staff.context().close();
    const tGone = await waitPresence(customer, '', 8000);
    await screenshot(customer, 'conversation-staff-gone-phone');
    console.log(`# presence: here ${tHere} ms, typing shown ${tTyping} ms, gone after close ${tGone} ms`);
    assert.deepEqual(customer.consoleErrors, [], 'no console errors');
    await customer.context().close();
  } finally {
    await server.dispose();
  }
});
