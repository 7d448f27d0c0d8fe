// Customer banner and staff console, end to end: a customer signs up and requests a session in
// one browser context, a staff member accepts, starts and ends it in another, and the customer's
// ActiveSessionBanner follows every step. Run twice: realtime on, and polling only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, screenshot, rest } from './harness.mjs';

const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff', name: 'Priya Sharma' };
const STEP_MS = Number(process.env.SESSION_E2E_STEP_MS ?? 1000);

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function signUp(page, baseUrl, name, email) {
  await page.goto(`${baseUrl}/session`);
  // The live region is in the page before it has anything to say.
  const banner = page.locator('[role="status"][data-testid="active-session-banner"]');
  await banner.waitFor({ state: 'attached', timeout: 15000 });
  assert.equal((await banner.textContent()).trim(), '', 'banner region starts empty');
  await page.getByTestId('tab-sign-up').click();
  await page.getByTestId('auth-name').fill(name);
  await page.getByTestId('auth-email').fill(email);
  await page.getByTestId('auth-password').fill('short');
  await page.getByTestId('auth-submit').click();
  assert.match(await page.getByTestId('auth-error').textContent(), /at least 6/);
  await page.getByTestId('auth-password').fill('correct-horse');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('request-topic').waitFor({ timeout: 10000 });
}

async function staffSignIn(page, baseUrl) {
  await page.goto(`${baseUrl}/staff`);
  await page.getByTestId('auth-email').fill(STAFF.email);
  await page.getByTestId('auth-password').fill('wrong-password');
  await page.getByTestId('auth-submit').click();
  await page.getByText('That email and password do not match an account.').waitFor({ timeout: 5000 });
  await page.getByTestId('auth-password').fill(STAFF.password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('pending-list').waitFor({ timeout: 10000 });
}

const state = (page) => page.getByTestId('active-session-banner').getAttribute('data-state');
async function waitState(page, want, ms = STEP_MS) {
  const t0 = Date.now();
  await page.waitForFunction(
    (w) => document.querySelector('[data-testid="active-session-banner"]')?.getAttribute('data-state') === w,
    want, { timeout: ms + 4000 },
  );
  return Date.now() - t0;
}

for (const mode of [
  { name: 'realtime', appConfig: { poll_base_ms: 10000 }, shots: true },
  { name: 'polling only', appConfig: { realtime_enabled: false, poll_base_ms: 300, poll_max_ms: 600 }, shots: false },
]) {
  test(`customer ↔ staff lifecycle (${mode.name})`, async () => {
    const server = await startServer({ appConfig: mode.appConfig });
    try {
      const customer = await newPage(browser, { width: 1280, height: 800 });
      const email = `guest-${Date.now()}@guest.test`;
      await signUp(customer, server.baseUrl, 'Meera Rao', email);
      if (mode.shots) await screenshot(customer, 'session-request-form');

      await customer.getByTestId('kind-video').check();
      await customer.getByTestId('request-topic').fill('Car will not start — need a mechanic');
      await customer.getByTestId('request-submit').click();
      await waitState(customer, 'pending');
      assert.match(await customer.getByTestId('banner-headline').textContent(), /waiting for a staff member/i);
      if (mode.shots) await screenshot(customer, 'session-banner-requested');

      // A second tab of the same customer (same storage) shows the same truth.
      const tab2 = await customer.context().newPage();
      await tab2.goto(`${server.baseUrl}/session`);
      await waitState(tab2, 'pending', 8000);
      // A page loaded with an active session is loaded: no "Loading…" left under the banner.
      await tab2.waitForTimeout(500);
      assert.equal(await tab2.getByText('Loading your sessions').count(), 0, 'tab 2 finished loading');

      const staff = await newPage(browser, { width: 1280, height: 800 });
      await staffSignIn(staff, server.baseUrl);
      const card = staff.locator('[data-testid="session-card"]', { hasText: 'Car will not start' });
      await card.waitFor({ timeout: 8000 });
      // Staff see who is asking: the name Meera signed up with, stamped by the server.
      assert.equal(await card.getByTestId('session-guest').textContent(), 'Meera Rao');
      if (mode.shots) await screenshot(staff, 'staff-console-pending');

      // A different customer never sees Meera's session.
      const other = await newPage(browser, { width: 1024, height: 700 });
      await signUp(other, server.baseUrl, 'Other Guest', `other-${Date.now()}@guest.test`);

      await card.getByTestId('action-waiting').click();
      const tAccept = await waitState(customer, 'waiting');
      assert.match(await customer.getByTestId('banner-headline').textContent(), new RegExp(STAFF.name));
      if (mode.shots) await screenshot(customer, 'session-banner-assigned');

      await staff.locator('[data-testid="mine-list"] [data-testid="action-live"]').click();
      const tLive = await waitState(customer, 'live');
      assert.match(await customer.getByTestId('banner-headline').textContent(), new RegExp(`Live with ${STAFF.name}`));
      const e1 = await customer.getByTestId('banner-elapsed').textContent();
      await customer.waitForTimeout(2100);
      const e2 = await customer.getByTestId('banner-elapsed').textContent();
      assert.notEqual(e1, e2, `elapsed time ticks (${e1} → ${e2})`);
      if (mode.shots) {
        await screenshot(customer, 'session-banner-live');
        await screenshot(staff, 'staff-console-live');
      }
      await waitState(tab2, 'live', 8000);
      // Customers are often on a phone: the banner must fit one without sideways scrolling.
      await tab2.setViewportSize({ width: 390, height: 844 });
      const overflow = await tab2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scroll on a phone (overflow ${overflow}px)`);
      if (mode.shots) await screenshot(tab2, 'session-banner-live-phone');

      // Optimistic end that the server refuses: the banner goes at once, then comes back with a message.
      await customer.route('**/rest/v1/sessions?*', async (route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        await new Promise((r) => setTimeout(r, 400));
        return route.fulfill({ status: 403, contentType: 'application/json',
          body: JSON.stringify({ code: '42501', message: 'permission denied for table sessions', details: null, hint: null }) });
      });
      await customer.getByTestId('banner-end').click();
      assert.equal(await state(customer), 'none', 'optimistic: the banner reacts at once');
      await waitState(customer, 'live', 3000);
      assert.match(await customer.getByTestId('banner-message').textContent(), /Could not end the session/);
      if (mode.shots) await screenshot(customer, 'session-banner-rollback');
      await customer.unroute('**/rest/v1/sessions?*');

      // Staff end it; the banner goes away (in both tabs).
      await staff.locator('[data-testid="mine-list"] [data-testid="action-completed"]').click();
      const tEnd = await waitState(customer, 'none');
      await waitState(tab2, 'none', 8000);
      assert.equal(await customer.getByTestId('banner-message').count(), 0,
        'the rollback explanation goes with the session it was about');
      if (mode.shots) await screenshot(customer, 'session-banner-ended');

      assert.equal(await other.locator('[data-testid="active-session-banner"]').getAttribute('data-state'), 'none');
      assert.equal(await other.getByText('Car will not start').count(), 0, 'the other customer never sees it');

      // The session survives a reload (stored sign-in) and a new request works afterwards.
      await customer.reload();
      await customer.getByTestId('request-topic').waitFor({ timeout: 10000 });
      assert.equal(await customer.getByTestId('account-name').textContent(), 'Meera Rao');
      console.log(`# ${mode.name}: accept→banner ${tAccept} ms, start→live ${tLive} ms, end→gone ${tEnd} ms`);
      for (const p of [customer, staff, other]) assert.deepEqual(p.consoleErrors.filter((e) => !/status of 40[03]|Forbidden/.test(e)), [], 'no console errors');
      for (const p of [customer, staff, other]) await p.context().close();
    } finally {
      await server.dispose();
    }
  });
}

// Issue 4's promise: the banner keeps telling the truth while the server is stopped and
// restarted. Staff accept the request while the server is down (written straight into its
// SQLite file), so no realtime event can ever carry it: only a poll or the snapshot taken after
// resubscribing can bring it to the banner.
test('the banner survives a server restart: nothing lost, resync after', async () => {
  const server = await startServer({ appConfig: { poll_base_ms: 2000, poll_max_ms: 4000 } });
  try {
    const customer = await newPage(browser, { width: 1280, height: 800 });
    await signUp(customer, server.baseUrl, 'Ravi Iyer', `ravi-${Date.now()}@guest.test`);
    await customer.getByTestId('request-topic').fill('Extra pillows, please');
    await customer.getByTestId('request-submit').click();
    await waitState(customer, 'pending');
    const pillState = () => customer.getByTestId('connection').getAttribute('data-state');
    const waitPill = (want, ms) => customer.waitForFunction(
      ([w]) => (document.querySelector('[data-testid="connection"]')?.dataset.state === 'live') === w,
      [want], { timeout: ms });
    await waitPill(true, 10000);
    const staffAuth = await fetch(`${server.baseUrl}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: server.keys.anon_key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: STAFF.email, password: STAFF.password }),
    }).then((r) => r.json());
    const mine = await rest(server, 'GET', 'sessions?select=id&topic=eq.Extra%20pillows%2C%20please');
    assert.equal(mine.body.length, 1);
    const id = mine.body[0].id;

    await server.stop();
    await waitPill(false, 10000);
    const down = await pillState();
    assert.ok(['reconnecting', 'polling', 'offline', 'connecting'].includes(down), `pill while down: ${down}`);
    const now = new Date().toISOString(); // 2026-11-22T03:11:16.123Z, the server's stored form
    execFileSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE sessions SET status='waiting', staff_id=?, staff_name=?, updated_at=? WHERE id=? AND status='pending'",
               (sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])).rowcount
db.commit()
sys.exit(0 if n == 1 else 1)
`, join(server.dir, 'e2e.db'), staffAuth.user.id, STAFF.name, now, id]);
    await customer.waitForTimeout(2500); // failed polls and reconnect attempts meanwhile
    assert.equal(await state(customer), 'pending', 'the banner keeps what it knew while the server is away');

    await server.start();
    // Reconnect backoff (1, 2, 5, 10 s) then the resync, or the next poll (≤ 4 s), whichever first.
    await waitState(customer, 'waiting', 12000);
    assert.match(await customer.getByTestId('banner-headline').textContent(), new RegExp(STAFF.name));
    await waitPill(true, 15000);

    // And realtime carries the next step again, within the second.
    const started = await rest(server, 'PATCH', `sessions?id=eq.${id}`, { status: 'live' },
      { key: staffAuth.access_token });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await waitState(customer, 'live');
    const errors = customer.consoleErrors.filter(
      (e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket|poll failed: network error/.test(e));
    assert.deepEqual(errors, [], 'no errors beyond the expected connection failures');
  } finally {
    await server.dispose();
  }
});

test('tokens refresh before they expire, the realtime channel takes each new token, nothing remounts', async () => {
  // Access tokens live 9 s here, so the app refreshes every ~4–6 s (a third of the lifetime
  // before expiry, plus jitter). Without the refresh reaching the channel, the server would
  // close it when the first token expires ("token expired" in its log).
  const server = await startServer({ args: ['--access-token-ttl-secs', '9'], appConfig: { poll_base_ms: 10000 } });
  try {
    const customer = await newPage(browser, { width: 1280, height: 800 });
    await signUp(customer, server.baseUrl, 'Tara Nair', `tara-${Date.now()}@guest.test`);
    const signedUpAt = Date.now();
    await customer.getByTestId('request-topic').fill('Late checkout, please');
    await customer.getByTestId('request-submit').click();
    await waitState(customer, 'pending');

    const token = () => customer.evaluate(() => JSON.parse(localStorage.getItem('concierge.auth.customer') ?? 'null')?.access_token);
    const seen = new Set([await token()]);
    // Two refreshes, and well past the first token's expiry.
    while ((seen.size < 3 || Date.now() - signedUpAt < 13000) && Date.now() - signedUpAt < 30000) {
      await customer.waitForTimeout(250);
      seen.add(await token());
    }
    assert.ok(seen.size >= 3, `at least two refreshes (saw ${seen.size - 1})`);
    const logs = server.logs().replace(/\u001b\[[0-9;]*m/g, '');
    const replaced = logs.split('\n').filter((l) => l.includes('realtime channel token replaced'));
    assert.ok(replaced.length >= 2, `the channel got the new tokens (${replaced.length} replacements)`);
    // One channel per live query throughout (the sessions, and the conversation under the
    // banner), plus the session's private room (presence and typing): a view remounted by a
    // refresh would leave its live query and join a new channel (a new topic,
    // `concierge-<table>-<n>`) under the new token.
    const topics = [...new Set(replaced.map((l) => l.match(/topic=(\S+)/)?.[1]))];
    const tables = topics.map((t) => t.replace(/-\d+$/, '').replace(/^realtime:session:[0-9a-f-]{36}$/, 'realtime:session:<id>'));
    assert.deepEqual(tables.sort(), ['realtime:concierge-messages', 'realtime:concierge-sessions', 'realtime:session:<id>'],
      `one channel per live query, not one per token: ${topics.join(', ')}`);
    assert.doesNotMatch(logs, /token expired; closing/, 'no channel outlived its token');
    assert.equal(await customer.getByText('Loading your sessions').count(), 0);

    // Realtime still delivers, under the refreshed token.
    const staff = await newPage(browser, { width: 1280, height: 800 });
    await staffSignIn(staff, server.baseUrl);
    const card = staff.locator('[data-testid="session-card"]', { hasText: 'Late checkout' });
    await card.waitFor({ timeout: 8000 });
    assert.equal(await card.getByTestId('session-guest').textContent(), 'Tara Nair');
    await card.getByTestId('action-waiting').click();
    const t = await waitState(customer, 'waiting');
    assert.equal(await customer.getByTestId('connection').getAttribute('data-state'), 'live');
    console.log(`# after ${seen.size - 1} token refreshes: accept→banner ${t} ms`);
    assert.deepEqual(customer.consoleErrors, [], 'no console errors');
    // staffSignIn tries a wrong password first, on purpose: that 400 is expected.
    assert.deepEqual(staff.consoleErrors.filter((e) => !/status of 400/.test(e)), [], 'no console errors');
    for (const p of [customer, staff]) await p.context().close();
  } finally {
    await server.dispose();
  }
});
