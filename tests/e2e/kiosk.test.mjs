// The kiosk end to end: the release build in headless Chromium against the real
// concierge-server. Each server gets its own hotel and catalogue (written through REST with
// the service role), so every expectation below is computed from data this file controls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, rest, UUID_RE } from './harness.mjs';

const HOTEL = 'e2e-kiosk-hotel';
const ZONE = 'Asia/Kolkata';
const IST_MIN = 330;
const FAST = { hotel_id: HOTEL, poll_base_ms: 1000, poll_max_ms: 2000 };
const PORTRAIT = { width: 1080, height: 1920 };
const LANDSCAPE = { width: 1920, height: 1080 };
const PHONE = { width: 390, height: 844 };

// ---------------------------------------------------------------- fixture

/** A UTC ISO timestamp for `days` after today at hh:mm in the hotel's zone. */
function hotelTime(days, hh, mm) {
  const nowIst = new Date(Date.now() + IST_MIN * 60000);
  const base = Date.UTC(nowIst.getUTCFullYear(), nowIst.getUTCMonth(), nowIst.getUTCDate() + days, hh, mm);
  return new Date(base - IST_MIN * 60000).toISOString();
}
const inMinutes = (m) => new Date(Date.now() + m * 60000).toISOString();

// Titles are unique; `key` names them in the assertions.
const EVENTS = [
  { key: 'pianist', title: 'Evening piano in the Lobby Lounge', category: 'music', is_hotel_service: true, distance_km: 0,
    venue: 'Lobby Lounge', starts_at: inMinutes(50), ends_at: inMinutes(230), price_text: 'Complimentary' },
  { key: 'jazz', title: 'Jazz at The Humming Tree', category: 'music', distance_km: 4.2,
    venue: 'The Humming Tree, Indiranagar', starts_at: hotelTime(1, 11, 0), price_text: '₹800' },
  { key: 'sitar', title: 'Sitar & Tabla Under the Stars', category: 'music', distance_km: 1.3,
    venue: 'Windsor Gardens', starts_at: hotelTime(2, 19, 0), price_text: '₹1,200' },
  { key: 'symphony', title: 'Bangalore Symphony: Tchaikovsky', category: 'music', distance_km: 1.3,
    venue: 'Chowdiah Memorial Hall', starts_at: hotelTime(3, 19, 30), price_text: 'From ₹1,500' },
  { key: 'kids', title: 'Kids’ Club: Puppet Theatre', category: 'family', is_hotel_service: true, distance_km: 0,
    venue: 'Kids’ Club, Level 2', starts_at: inMinutes(120), ends_at: inMinutes(180), price_text: 'Free for hotel guests' },
  { key: 'planetarium', title: 'Planetarium Sky Show', category: 'family', distance_km: 6.8,
    venue: 'Jawaharlal Nehru Planetarium', starts_at: hotelTime(1, 15, 0), price_text: '₹75' },
  { key: 'spa', title: 'Ayurvedic Abhyanga Massage', category: 'wellness', is_hotel_service: true, distance_km: 0,
    venue: 'Quan Spa', starts_at: inMinutes(60), ends_at: inMinutes(600), price_text: '₹6,500 · 60 min' },
  { key: 'comedy', title: 'Stand-up Night: Bangalore Laughs', category: 'comedy', distance_km: 3.1,
    venue: 'The Comedy Theatre, Koramangala', starts_at: hotelTime(1, 20, 30), price_text: '₹499' },
  { key: 'ended', title: 'Morning Raga (ended)', category: 'music', distance_km: 0.2,
    venue: 'Cubbon Park', starts_at: inMinutes(-240), ends_at: inMinutes(-120), price_text: 'Free' },
  { key: 'other-hotel', title: 'Another hotel’s jazz', category: 'music', distance_km: 0.1,
    hotel_id: 'e2e-other-hotel', starts_at: inMinutes(90) },
];
/** Kiosk order for "live music and something for the kids": hotel services, nearest, soonest. */
const MUSIC_AND_KIDS = ['pianist', 'kids', 'sitar', 'symphony', 'jazz', 'planetarium'];

async function seed(server) {
  for (const [id, name] of [[HOTEL, 'Marriott Bangalore'], ['e2e-other-hotel', 'Elsewhere Inn']]) {
    const r = await rest(server, 'POST', 'hotels', { id, name, timezone: ZONE, latitude: 12.97, longitude: 77.59 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const ids = {};
  for (const { key, ...e } of EVENTS) {
    const r = await rest(server, 'POST', 'events', {
      hotel_id: HOTEL, is_hotel_service: false, booking_url: `https://book.example.com/e/${key}`, ...e,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids[key] = r.body[0].id;
  }
  return ids;
}

/** What another client (a phone, a voice agent) does: POST a search for a session id. */
async function remoteSearch(server, sessionId, interests) {
  const r = await fetch(`${server.baseUrl}/api/event/by-interests?session_id=${sessionId}`, {
    method: 'POST',
    headers: { apikey: server.keys.anon_key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ interests, hotel_id: HOTEL }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body;
}

// ---------------------------------------------------------------- kiosk helpers

async function openKiosk(server, viewport = LANDSCAPE) {
  const page = await newPage(browser, viewport);
  page.sockets = [];
  page.on('websocket', (ws) => {
    const rec = { url: ws.url(), sent: [] };
    ws.on('framesent', (f) => rec.sent.push(String(f.payload)));
    page.sockets.push(rec);
  });
  await page.goto(`${server.baseUrl}/kiosk`);
  await page.getByTestId('attract').waitFor({ timeout: 15000 });
  return page;
}

async function sessionId(page) {
  const text = (await page.getByTestId('session-id').textContent()).trim();
  assert.match(text, UUID_RE);
  return text;
}

async function startAndSearch(page, text) {
  await page.getByRole('button', { name: 'Tap to start' }).click();
  await page.getByTestId('interests-input').fill(text);
  await page.getByTestId('search-button').click();
}

async function cardKeys(page, ids) {
  const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  const got = await page.getByTestId('event-card').evaluateAll((els) => els.map((e) => e.dataset.eventId));
  return got.map((id) => byId[id] ?? id);
}

async function waitForCards(page, ids, expected, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let got;
  while (Date.now() < deadline) {
    got = await cardKeys(page, ids);
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, expected);
}

// ---------------------------------------------------------------- lifecycle

let server, browser, ids;
before(async () => {
  server = await startServer({ appConfig: FAST });
  ids = await seed(server);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

// ---------------------------------------------------------------- tests

test('attract screen shows the hotel and a session id; screenshots', async () => {
  for (const [name, vp] of [['landscape', LANDSCAPE], ['portrait', PORTRAIT]]) {
    const page = await openKiosk(server, vp);
    await page.getByRole('heading', { name: 'Marriott Bangalore' }).waitFor({ timeout: 10000 });
    await sessionId(page);
    await page.waitForTimeout(600); // let the entrance settle for the picture
    await screenshot(page, `kiosk-attract-${name}`);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
});

test('a guest search renders the right cards in the right order, with hotel-zone times', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  await startAndSearch(page, 'Live music and something for the KIDS!');
  await waitForCards(page, ids, MUSIC_AND_KIDS);
  // What the guest typed stays in the field.
  assert.equal(await page.getByTestId('interests-input').inputValue(), 'Live music and something for the KIDS!');

  const results = page.getByTestId('results');
  assert.equal(await results.getAttribute('aria-live'), 'polite');
  const cards = page.getByTestId('event-card');
  const jazz = cards.nth(MUSIC_AND_KIDS.indexOf('jazz'));
  assert.equal((await jazz.getByTestId('event-when').textContent()).trim(), 'Tomorrow 11:00 am');
  assert.match(await jazz.textContent(), /Jazz at The Humming Tree/);
  assert.match(await jazz.textContent(), /The Humming Tree, Indiranagar · 4\.2 km/);
  assert.match(await jazz.textContent(), /₹800/);
  assert.equal(await jazz.getByTestId('hotel-service').count(), 0);
  const pianist = cards.nth(0);
  assert.equal(await pianist.getByTestId('hotel-service').count(), 1);
  assert.match(await pianist.textContent(), /In the hotel/);
  // "Take it with you": a QR code drawn in the page for every card with a booking link (a task
  // after the card's text).
  await page.getByTestId('event-qr').nth(MUSIC_AND_KIDS.length - 1).locator('svg').waitFor();
  assert.equal(await page.getByTestId('event-qr').locator('svg').count(), MUSIC_AND_KIDS.length);
  // Matched categories are shown.
  assert.match(await results.textContent(), /6 suggestions/);
  assert.match(await results.textContent(), /Music/);
  assert.match(await results.textContent(), /Family/);

  for (const [name, vp] of [['landscape', LANDSCAPE], ['portrait', PORTRAIT], ['phone', PHONE]]) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(500);
    await screenshot(page, `kiosk-results-${name}`);
  }
  // Touch targets: every chip and button is at least 44×44 CSS px at kiosk size.
  await page.setViewportSize(PORTRAIT);
  const small = await page.locator('.interest-chip, .button, .ask__input').evaluateAll((els) => els
    .map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0 && (r.width < 44 || r.height < 44)).length);
  assert.equal(small, 0);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('keyboard only: start, type, search, and the results region announces politely', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  // The one control on the attract screen has focus; Enter starts.
  await page.keyboard.press('Enter');
  await page.getByTestId('explore').waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'interests');
  await page.keyboard.type('something for the kids');
  await page.keyboard.press('Enter');
  await waitForCards(page, ids, ['kids', 'planetarium']);
  // Chips are reachable with Tab and work with Space.
  await page.getByRole('button', { name: 'Spa & wellness' }).focus();
  await page.keyboard.press('Space');
  await waitForCards(page, ids, ['spa']);
  assert.equal(await page.getByTestId('results').getAttribute('aria-live'), 'polite');
  assert.equal(await page.getByRole('search').count(), 1);
  assert.equal(await page.getByLabel('Tell us what you are in the mood for').count(), 1);
  await page.context().close();
});

test('on touch, starting does not focus the text field (no on-screen keyboard pops up)', async () => {
  const page = await openKiosk(server, PORTRAIT);
  await page.getByTestId('attract').click({ position: { x: 200, y: 300 } });
  await page.getByTestId('explore').waitFor({ timeout: 5000 });
  assert.notEqual(await page.evaluate(() => document.activeElement?.id), 'interests');
  await page.context().close();
});

test('cards follow updates and deletions of the events they show', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  await startAndSearch(page, 'classical music');
  const music = ['pianist', 'sitar', 'symphony', 'jazz'];
  await waitForCards(page, ids, music);
  // The symphony moves nearer than the sitar concert: it is renamed and re-ordered.
  const patched = await rest(server, 'PATCH', `events?id=eq.${ids.symphony}`,
    { title: 'Symphony (moved to the hotel ballroom)', distance_km: 0.3 });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await waitForCards(page, ids, ['pianist', 'symphony', 'sitar', 'jazz']);
  await page.getByText('Symphony (moved to the hotel ballroom)').waitFor({ timeout: 10000 });
  // The jazz gig is cancelled: its card leaves.
  const deleted = await rest(server, 'DELETE', `events?id=eq.${ids.jazz}`);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  await waitForCards(page, ids, ['pianist', 'symphony', 'sitar']);
  // Put the catalogue back for the other tests.
  const { key, ...jazz } = EVENTS.find((e) => e.key === 'jazz');
  const again = await rest(server, 'POST', 'events', { hotel_id: HOTEL, booking_url: `https://book.example.com/e/${key}`, ...jazz });
  ids.jazz = again.body[0].id;
  await rest(server, 'PATCH', `events?id=eq.${ids.symphony}`,
    { title: EVENTS.find((e) => e.key === 'symphony').title, distance_km: 1.3 });
  await page.context().close();
});

test('a search made by another client with the kiosk session id appears on the kiosk', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  const id = await sessionId(page);
  // Still on the attract screen: a phone asks for this kiosk.
  await remoteSearch(server, id, 'a spa');
  await waitForCards(page, ids, ['spa']);
  assert.equal(await page.getByTestId('explore').count(), 1);
  // A newer search replaces it.
  await remoteSearch(server, id, 'stand-up comedy');
  await waitForCards(page, ids, ['comedy']);
  await page.context().close();
});

test('a second kiosk sees nothing of the first kiosk’s results', async () => {
  const a = await openKiosk(server, LANDSCAPE);
  const b = await openKiosk(server, LANDSCAPE);
  const idA = await sessionId(a);
  const idB = await sessionId(b);
  assert.notEqual(idA, idB);
  await startAndSearch(a, 'something for the kids');
  await waitForCards(a, ids, ['kids', 'planetarium']);
  await remoteSearch(server, idA, 'comedy');
  await waitForCards(a, ids, ['comedy']);
  // B stays on its attract screen with no result in its DOM, even after a poll interval.
  await b.waitForTimeout(2500);
  assert.equal(await b.getByTestId('attract').count(), 1);
  assert.equal(await b.getByTestId('result').count(), 0);
  assert.doesNotMatch(await b.content(), /Puppet Theatre|Bangalore Laughs/);
  // And B's own result reaches only B.
  await remoteSearch(server, idB, 'a spa');
  await waitForCards(b, ids, ['spa']);
  await a.waitForTimeout(1500);
  assert.deepEqual(await cardKeys(a, ids), ['comedy']);
  await a.context().close();
  await b.context().close();
});

test('nothing matches: an empty state with tappable suggestions; screenshots', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  await startAndSearch(page, 'quantum physics');
  const empty = page.getByTestId('results-empty');
  await empty.waitFor({ timeout: 10000 });
  assert.match(await empty.textContent(), /Nothing matches “quantum physics”/);
  for (const [name, vp] of [['landscape', LANDSCAPE], ['portrait', PORTRAIT]]) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(400);
    await screenshot(page, `kiosk-empty-${name}`);
  }
  await empty.getByRole('button', { name: 'live music' }).click();
  await waitForCards(page, ids, ['pianist', 'sitar', 'symphony', 'jazz']);
  await page.context().close();
});

test('a failed search shows a designed error with a retry', async () => {
  const own = await startServer({ appConfig: FAST });
  try {
    const ownIds = await seed(own);
    const page = await openKiosk(own, LANDSCAPE);
    await page.getByRole('button', { name: 'Tap to start' }).click();
    await own.stop();
    await page.getByTestId('interests-input').fill('a spa');
    await page.getByTestId('search-button').click();
    const err = page.getByTestId('results-error');
    await err.waitFor({ timeout: 15000 });
    assert.match(await err.textContent(), /couldn’t search/);
    await own.start();
    await err.getByRole('button', { name: 'Try again' }).click();
    await waitForCards(page, ownIds, ['spa']);
    await page.context().close();
  } finally {
    await own.dispose();
  }
});

test('idle reset: countdown, a touch cancels it, then a new session and a clean screen', async () => {
  // A 6 s warning: long enough that a screenshot and a click land inside it on a loaded machine.
  const idle = await startServer({ appConfig: { ...FAST, idle_timeout_ms: 6500, idle_warning_ms: 6000 } });
  try {
    const idleIds = await seed(idle);
    for (const [name, vp] of [['landscape', LANDSCAPE], ['portrait', PORTRAIT]]) {
      const page = await openKiosk(idle, vp);
      const first = await sessionId(page);
      await startAndSearch(page, 'jazz and puppets please');
      await waitForCards(page, idleIds, ['pianist', 'kids', 'sitar', 'symphony', 'jazz', 'planetarium']);
      // No touch for idle_timeout_ms: the warning counts down.
      const warning = page.getByTestId('idle-warning');
      await warning.waitFor({ timeout: 12000 });
      assert.match(await warning.textContent(), /Are you still there\?/);
      await page.waitForTimeout(300);
      await screenshot(page, `kiosk-idle-warning-${name}`);
      // Any touch cancels it, same session.
      await page.mouse.click(vp.width / 2, 40);
      await warning.waitFor({ state: 'detached', timeout: 2000 });
      assert.equal(await sessionId(page), first);
      assert.equal(await page.getByTestId('result').count(), 1);
      // Then nobody comes back: reset.
      await page.getByTestId('attract').waitFor({ timeout: 25000 });
      const second = await sessionId(page);
      assert.notEqual(second, first);
      assert.equal(await page.getByTestId('event-card').count(), 0);
      const html = await page.content();
      assert.ok(!html.includes('jazz and puppets'), 'the previous guest’s words are gone from the DOM');
      assert.ok(!html.includes(first), 'the previous session id is gone from the DOM');
      const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
      assert.equal(storage, 0);
      // The old subscription is closed: the channel was left over the socket…
      const leaves = page.sockets.flatMap((w) => w.sent).filter((f) => f.includes('phx_leave'));
      assert.ok(leaves.length >= 1, 'the old session’s channel was left');
      // …and a result for the old session does not appear.
      await remoteSearch(idle, first, 'a spa');
      await page.waitForTimeout(2500);
      assert.equal(await page.getByTestId('attract').count(), 1);
      assert.equal(await page.getByTestId('event-card').count(), 0);
      // …while the new session works.
      await remoteSearch(idle, second, 'a spa');
      await waitForCards(page, idleIds, ['spa']);
      assert.deepEqual(page.consoleErrors, []);
      await page.context().close();
    }
  } finally {
    await idle.dispose();
  }
});

test('with realtime, a remote search appears at once, without waiting for a poll', async () => {
  const live = await startServer({ appConfig: { hotel_id: HOTEL, poll_base_ms: 120000, poll_max_ms: 120000 } });
  try {
    const liveIds = await seed(live);
    const page = await openKiosk(live, LANDSCAPE);
    const id = await sessionId(page);
    await page.getByTestId('connection').getByText('Live').waitFor({ timeout: 10000 });
    const t0 = Date.now();
    await remoteSearch(live, id, 'something for the kids');
    await waitForCards(page, liveIds, ['kids', 'planetarium'], 3000);
    const ms = Date.now() - t0;
    assert.ok(ms < 3000, `arrived in ${ms} ms`);
    assert.equal(page.sockets.length, 1, 'one socket per page');
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  } finally {
    await live.dispose();
  }
});

test('with realtime disabled, results still arrive through polling', async () => {
  const polling = await startServer({ appConfig: { ...FAST, realtime_enabled: false } });
  try {
    const pollIds = await seed(polling);
    const page = await openKiosk(polling, LANDSCAPE);
    const id = await sessionId(page);
    await remoteSearch(polling, id, 'stand-up');
    await waitForCards(page, pollIds, ['comedy'], 8000);
    assert.equal(page.sockets.length, 0, 'no WebSocket was opened');
    const indicator = (await page.getByTestId('connection').textContent()).trim();
    assert.equal(indicator, 'Updating');
    await page.context().close();
  } finally {
    await polling.dispose();
  }
});

// ---------------------------------------------------------------- the live path

/** Full event rows, as the search endpoint puts them in a result. */
async function eventRows(srv, eventIds) {
  const r = await rest(srv, 'GET', `events?id=in.(${eventIds.join(',')})`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return Object.fromEntries(r.body.map((e) => [e.id, e]));
}

/** Writes a `kiosk_results` row for `session` over REST, shaped as the search endpoint's. */
async function writeResult(srv, session, interests, events) {
  const categories = [...new Set(events.map((e) => e.category))];
  const r = await rest(srv, 'POST', 'kiosk_results', {
    session_id: session,
    results: { interests, categories, events, suggestions: [], timezone: ZONE },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

const joinsSent = (page) => page.sockets.flatMap((w) => w.sent).filter((f) => f.includes('"phx_join"')).length;

/** What the page asks of the backend from now on: its REST requests and channel joins. */
function watchTraffic(page) {
  const restCalls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/rest/v1/')) restCalls.push(r.url());
  });
  const before = joinsSent(page);
  return { restCalls, joins: () => joinsSent(page) - before };
}

test('while realtime is live, arriving results cause no REST call and no channel join', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  const session = await sessionId(page);
  await page.getByTestId('connection').getByText('Live').waitFor({ timeout: 10000 });
  const rows = await eventRows(server, Object.values(ids));
  const events = (keys) => keys.map((k) => rows[ids[k]]);
  await writeResult(server, session, 'a spa', events(['spa']));
  await waitForCards(page, ids, ['spa']);

  const traffic = watchTraffic(page);
  const next = [['kids', 'planetarium'], ['comedy'], ['pianist', 'sitar', 'jazz'], ['spa', 'comedy'], ['symphony']];
  for (const [i, keys] of next.entries()) {
    await writeResult(server, session, `result ${i + 2}`, events(keys));
    await waitForCards(page, ids, keys);
  }
  // Longer than a poll interval: a poll while live would show here too.
  await page.waitForTimeout(1500);
  assert.deepEqual(traffic.restCalls, [], 'no REST call per arriving result');
  assert.equal(traffic.joins(), 0, 'no channel join per arriving result');
  assert.equal(await page.getByTestId('result').count(), 1);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('shown cards follow catalogue updates and deletions through the page’s one subscription', async () => {
  const page = await openKiosk(server, LANDSCAPE);
  const session = await sessionId(page);
  await page.getByTestId('connection').getByText('Live').waitFor({ timeout: 10000 });
  // Two events added while the kiosk is open: the catalogue hears of them over realtime.
  const made = {};
  for (const [key, title, km] of [['tasting', 'Rooftop wine tasting', 0.5], ['walk', 'Heritage walk', 2]]) {
    const r = await rest(server, 'POST', 'events', {
      hotel_id: HOTEL, title, category: 'culture', distance_km: km, is_hotel_service: false,
      starts_at: inMinutes(180),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    made[key] = r.body[0];
  }
  const keys = { tasting: made.tasting.id, walk: made.walk.id };
  await writeResult(server, session, 'something local', [made.tasting, made.walk]);
  await waitForCards(page, keys, ['tasting', 'walk']);

  const traffic = watchTraffic(page);
  const renamed = await rest(server, 'PATCH', `events?id=eq.${keys.tasting}`, { title: 'Rooftop wine tasting (sold out)' });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  await page.getByTestId('event-card').filter({ hasText: 'Rooftop wine tasting (sold out)' }).waitFor({ timeout: 5000 });
  const deleted = await rest(server, 'DELETE', `events?id=eq.${keys.walk}`);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  await waitForCards(page, keys, ['tasting'], 5000);
  // The last one goes too: the result says what happened.
  await rest(server, 'DELETE', `events?id=eq.${keys.tasting}`);
  await page.getByTestId('results-empty').getByText(/ended or changed/).waitFor({ timeout: 5000 });
  assert.deepEqual(traffic.restCalls, [], 'changes arrive over the one subscription, not by request');
  assert.equal(traffic.joins(), 0);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});
