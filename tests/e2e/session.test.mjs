// Customer banner and staff console, end to end: a customer signs up and requests a session in
// one browser context, a staff member accepts, starts and ends it in another, and the customer's
// ActiveSessionBanner follows every step. Run twice: realtime on, and polling only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from './harness.mjs';

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

      const staff = await newPage(browser, { width: 1280, height: 800 });
      await staffSignIn(staff, server.baseUrl);
      const card = staff.locator('[data-testid="session-card"]', { hasText: 'Car will not start' });
      await card.waitFor({ timeout: 8000 });
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
