// Reservations with live capacity (issue 17), end to end: two kiosks in two browser contexts and
// the staff console, against the real concierge-server. A booking on one kiosk changes the
// places left on the other live (realtime), then through polling once the second kiosk's
// realtime is cut; a booking the server refuses (sold out) says so; staff see today's bookings
// live and a cancellation gives the places back everywhere. Nothing is mocked: the "cut" closes
// the second kiosk's WebSocket in its browser and refuses its reconnects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, rest } from './harness.mjs';

const HOTEL = 'e2e-reserve-hotel';
const FAST = { hotel_id: HOTEL, poll_base_ms: 1000, poll_max_ms: 2000 };
const LANDSCAPE = { width: 1920, height: 1080 };
const PORTRAIT = { width: 1080, height: 1920 };
const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff' };
const inMinutes = (m) => new Date(Date.now() + m * 60000).toISOString();

let server, browser, ev;

async function seed(srv) {
  const h = await rest(srv, 'POST', 'hotels', {
    id: HOTEL, name: 'Marriott Whitefield', timezone: 'Asia/Kolkata', latitude: 12.97, longitude: 77.72,
  });
  assert.equal(h.status, 201, JSON.stringify(h.body));
  const made = {};
  for (const [key, e] of Object.entries({
    tasting: { title: 'Rooftop wine tasting', category: 'dining', venue: 'Skyline terrace, Level 18',
      is_hotel_service: true, distance_km: 0, starts_at: inMinutes(180), ends_at: inMinutes(270),
      price_text: '₹2,500 per guest', capacity: 6 },
    jazz: { title: 'Jazz evening at Windmills', category: 'music', venue: 'Windmills Craftworks',
      is_hotel_service: false, distance_km: 2.1, starts_at: inMinutes(240), price_text: '₹900',
      booking_url: 'https://book.example.com/e/jazz' },
  })) {
    const r = await rest(srv, 'POST', 'events', { hotel_id: HOTEL, ...e });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    made[key] = r.body[0];
  }
  assert.equal(made.tasting.places_left, 6, 'the server derives places_left');
  assert.equal(made.jazz.places_left, null);
  return made;
}

/** Writes a `kiosk_results` row for `session`, shaped as the search endpoint's. */
async function showEvents(srv, session, events) {
  const r = await rest(srv, 'POST', 'kiosk_results', {
    session_id: session,
    results: { interests: 'something tonight', categories: [...new Set(events.map((e) => e.category))],
      events, suggestions: [], timezone: 'Asia/Kolkata' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/**
 * A kiosk whose realtime can be cut: its WebSocket goes through the browser's routing, so the
 * test can close it and refuse reconnects (what a dropped lobby network looks like to the page).
 */
async function openKiosk(srv, viewport = LANDSCAPE) {
  const page = await newPage(browser, viewport);
  const sockets = [];
  let cut = false;
  await page.routeWebSocket(/\/realtime\/v1\/websocket/, (ws) => {
    if (cut) { ws.close({ code: 1011, reason: 'cut by the test' }); return; }
    ws.connectToServer();
    sockets.push(ws);
  });
  page.joins = 0;
  page.on('websocket', (w) => w.on('framesent', (f) => { if (String(f.payload).includes('"phx_join"')) page.joins += 1; }));
  page.cutRealtime = async () => {
    cut = true;
    for (const ws of sockets) await ws.close({ code: 1011, reason: 'cut by the test' });
  };
  page.restCalls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/rest/v1/')) page.restCalls.push(r.url());
  });
  await page.goto(`${srv.baseUrl}/kiosk`);
  await page.getByTestId('attract').waitFor({ timeout: 15000 });
  const session = (await page.getByTestId('session-id').textContent()).trim();
  await page.getByTestId('connection').getByText('Live').waitFor({ timeout: 10000 });
  await showEvents(srv, session, [ev.tasting, ev.jazz]);
  await card(page, ev.tasting.id).waitFor({ timeout: 10000 });
  return page;
}

const card = (page, id) => page.locator(`[data-testid="event-card"][data-event-id="${id}"]`);
const places = (page, id) => card(page, id).getByTestId('places-left');
async function waitPlaces(page, id, text, timeout = 5000) {
  await page.locator(`[data-testid="event-card"][data-event-id="${id}"] [data-testid="places-left"]`,
    { hasText: new RegExp(`^\\s*${text}\\s*$`) }).waitFor({ timeout });
}

async function openDialog(page, id) {
  await card(page, id).getByTestId('reserve-button').click();
  const dialog = page.getByRole('dialog', { name: 'Reserve a place' });
  await dialog.waitFor({ timeout: 5000 });
  return dialog;
}

async function setParty(page, n) {
  for (let i = 0; i < 12; i += 1) {
    const now = Number((await page.getByTestId('party-size').textContent()).trim());
    if (now === n) return;
    await page.getByTestId(now < n ? 'party-plus' : 'party-minus').click();
  }
  assert.fail(`party size did not reach ${n}`);
}

async function book(page, id, name, room, party) {
  await openDialog(page, id);
  await page.getByTestId('reserve-name').fill(name);
  await page.getByTestId('reserve-room').fill(room);
  await setParty(page, party);
  await page.getByTestId('reserve-submit').click();
}

async function staffConsole(srv) {
  const page = await newPage(browser, { width: 1280, height: 1000 });
  await page.goto(`${srv.baseUrl}/staff`);
  await page.getByTestId('auth-email').fill(STAFF.email);
  await page.getByTestId('auth-password').fill(STAFF.password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('reservations').waitFor({ timeout: 10000 });
  return page;
}
const staffRow = (page, name) => page.getByTestId('reservation').filter({ hasText: name });

before(async () => {
  server = await startServer({ appConfig: FAST });
  ev = await seed(server);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('two kiosks and the staff console follow every booking; refusals are explained', async () => {
  const staff = await staffConsole(server);
  const a = await openKiosk(server);
  const b = await openKiosk(server);
  await waitPlaces(a, ev.tasting.id, '6 places left');
  await waitPlaces(b, ev.tasting.id, '6 places left');
  // Only bookable events say anything about places.
  assert.equal(await places(a, ev.jazz.id).count(), 0);
  assert.equal(await card(a, ev.jazz.id).getByTestId('reserve-button').count(), 0);
  // Animations run only in the page in front (several pages share the headless browser).
  await b.bringToFront();
  await b.waitForTimeout(600); // let the cards' entrance settle for the picture
  await screenshot(b, 'reserve-card-places-left');

  // The dialog: labelled, modal, focus in the name field; Escape closes it and focus returns.
  const dialog = await openDialog(a, ev.tasting.id);
  assert.equal(await dialog.getAttribute('aria-modal'), 'true');
  assert.equal(await a.evaluate(() => document.activeElement?.id), 'reserve-name');
  await a.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached', timeout: 3000 });
  assert.equal(await a.evaluate(() => document.activeElement?.dataset.testid), 'reserve-button');
  // Nothing typed: the form says what is missing and sends nothing.
  await openDialog(a, ev.tasting.id);
  await a.getByTestId('reserve-submit').click();
  assert.equal((await a.getByTestId('reserve-error').textContent()).trim(), 'Please enter the name for the booking.');
  await a.getByTestId('reserve-name').fill('Asha Rao');
  await a.getByTestId('reserve-room').fill('1204');
  await setParty(a, 2);
  await screenshot(a, 'reserve-dialog');

  // Booking on A changes B live, over B's one catalogue subscription: no request, no join.
  const bRest = b.restCalls.length;
  const bJoins = b.joins;
  await a.getByTestId('reserve-submit').click();
  const confirmation = a.getByTestId('reserve-confirmation');
  await confirmation.waitFor({ timeout: 5000 });
  assert.match(await confirmation.textContent(), /You’re booked/);
  assert.match(await confirmation.textContent(), /Asha Rao/);
  assert.match(await a.getByTestId('booking-reference').textContent(), /^[0-9A-F]{4}-[0-9A-F]{4}$/);
  await a.getByTestId('booking-qr').locator('svg').waitFor();
  await waitPlaces(b, ev.tasting.id, '4 places left');
  await waitPlaces(a, ev.tasting.id, '4 places left');
  await screenshot(a, 'reserve-confirmation');
  assert.deepEqual(b.restCalls.slice(bRest), [], 'B heard of the booking without a request');
  assert.equal(b.joins, bJoins, 'and without a channel join');
  await a.getByRole('button', { name: 'Done' }).click();
  await a.getByTestId('reserve-dialog').waitFor({ state: 'detached' });

  // Staff saw it arrive, live.
  await staffRow(staff, 'Asha Rao').waitFor({ timeout: 5000 });
  assert.match(await staffRow(staff, 'Asha Rao').textContent(), /Room 1204.*2 guests/);

  // B's realtime is cut: the next booking reaches it through polling.
  await b.cutRealtime();
  await b.waitForFunction(() => !document.querySelector('[data-testid="connection"]')?.className.includes('connection--live'),
    null, { timeout: 5000 });
  await book(a, ev.tasting.id, 'Rahul Menon', '907', 3);
  await a.getByTestId('reserve-confirmation').waitFor({ timeout: 5000 });
  await a.getByRole('button', { name: 'Done' }).click();
  await waitPlaces(b, ev.tasting.id, '1 place left', 8000);
  await staffRow(staff, 'Rahul Menon').waitFor({ timeout: 5000 });

  // B's catalogue goes stale (its polls fail too) while A takes the last place: B still offers
  // it, and the server's refusal is what B's guest reads.
  await b.route('**/rest/v1/events*', (r) => r.abort());
  await book(a, ev.tasting.id, 'Lena Fischer', '1512', 1);
  await a.getByTestId('reserve-confirmation').waitFor({ timeout: 5000 });
  await a.getByRole('button', { name: 'Done' }).click();
  await waitPlaces(a, ev.tasting.id, 'Fully booked');
  assert.equal(await card(a, ev.tasting.id).getByTestId('reserve-button').isVisible(), false);
  await screenshot(a, 'reserve-fully-booked');
  await book(b, ev.tasting.id, 'Tom Baker', '615', 1);
  await b.getByTestId('reserve-error').getByText('Sorry, this event is now fully booked.').waitFor({ timeout: 5000 });
  assert.equal(await b.getByTestId('reserve-confirmation').count(), 0);
  await screenshot(b, 'reserve-refused-sold-out');
  await b.keyboard.press('Escape');
  await b.unroute('**/rest/v1/events*');
  await waitPlaces(b, ev.tasting.id, 'Fully booked', 8000);

  // Staff cancel Rahul's booking (a confirm step first): three places come back everywhere.
  const rows = await rest(server, 'GET', `reservations?event_id=eq.${ev.tasting.id}&select=guest_name,party_size,status`);
  assert.deepEqual(rows.body.map((r) => [r.guest_name, r.party_size, r.status]).sort(),
    [['Asha Rao', 2, 'confirmed'], ['Lena Fischer', 1, 'confirmed'], ['Rahul Menon', 3, 'confirmed']]);
  const group = staff.locator(`[data-testid="resv-event"][data-event-id="${ev.tasting.id}"]`);
  await group.getByTestId('resv-places').getByText('Fully booked · 6 places').waitFor({ timeout: 5000 });
  await group.scrollIntoViewIfNeeded();
  await screenshot(staff, 'staff-reservations');
  await staffRow(staff, 'Rahul Menon').getByTestId('cancel-reservation').click();
  assert.match(await staffRow(staff, 'Rahul Menon').textContent(), /Cancel this booking\?/);
  await staff.getByTestId('confirm-cancel').click();
  await staff.locator('[data-testid="reservation"][data-status="cancelled"]', { hasText: 'Rahul Menon' })
    .waitFor({ timeout: 5000 });
  await group.getByTestId('resv-places').getByText('3 of 6 places left').waitFor({ timeout: 5000 });
  await waitPlaces(a, ev.tasting.id, '3 places left');
  await waitPlaces(b, ev.tasting.id, '3 places left', 8000);
  await group.scrollIntoViewIfNeeded();
  await screenshot(staff, 'staff-reservations-cancelled');

  for (const p of [a, staff]) assert.deepEqual(p.consoleErrors, []);
  // B's expected failures: the cut socket and the aborted polls.
  assert.deepEqual(b.consoleErrors.filter((e) => !/WebSocket|Failed to load resource|poll failed|ERR_FAILED/.test(e)), []);
  for (const p of [a, b, staff]) await p.context().close();
});

test('the booking form and its data are wiped at the idle reset', async () => {
  const idle = await startServer({ appConfig: { ...FAST, idle_timeout_ms: 4000, idle_warning_ms: 2000 } });
  try {
    const saved = ev;
    ev = await seed(idle);
    const page = await openKiosk(idle, PORTRAIT);
    ev = saved;
    const first = (await page.getByTestId('session-id').textContent()).trim();
    await page.locator('[data-testid="reserve-button"]').first().click();
    await page.getByTestId('reserve-name').fill('Private Person');
    await page.getByTestId('reserve-room').fill('4242');
    await screenshot(page, 'reserve-dialog-portrait');
    await page.getByTestId('attract').waitFor({ timeout: 10000 });
    const second = (await page.getByTestId('session-id').textContent()).trim();
    assert.notEqual(second, first);
    assert.equal(await page.getByTestId('reserve-dialog').count(), 0);
    assert.equal(await page.evaluate(() => document.body.innerText.includes('Private Person')), false);
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('input')].some((i) => i.value.includes('4242'))), false);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  } finally {
    await idle.dispose();
  }
});

test('out of the box, the demo catalogue has bookable events, one nearly full', async () => {
  const demo = await startServer({ appConfig: { poll_base_ms: 1000, poll_max_ms: 2000 } });
  try {
    const page = await newPage(browser, LANDSCAPE);
    await page.goto(`${demo.baseUrl}/kiosk`);
    await page.getByRole('button', { name: 'Tap to start' }).click();
    await page.getByRole('button', { name: 'Art & culture' }).click();
    const walk = page.getByTestId('event-card').filter({ hasText: 'Guided walk: Bangalore Palace' });
    await walk.getByTestId('places-left').getByText('2 places left').waitFor({ timeout: 10000 });
    assert.equal(await walk.getByTestId('reserve-button').isVisible(), true);
    await walk.scrollIntoViewIfNeeded();
    await page.waitForTimeout(600);
    await screenshot(page, 'reserve-demo-nearly-full');
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  } finally {
    await demo.dispose();
  }
});
