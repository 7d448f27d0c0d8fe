// Kiosk privacy end to end (issue 15): the kiosk page signs in anonymously, claims its session,
// reads its results with its own user token (the anon key alone reads nothing of them), and an
// idle reset brings a different user. The release build in headless Chromium against the real
// concierge-server with its defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, rest, UUID_RE } from './harness.mjs';

const HOTEL = 'e2e-identity-hotel';
let server, browser;

before(async () => {
  server = await startServer({
    appConfig: { hotel_id: HOTEL, poll_base_ms: 1000, poll_max_ms: 2000, idle_timeout_ms: 1500, idle_warning_ms: 1000 },
  });
  const h = await rest(server, 'POST', 'hotels', { id: HOTEL, name: 'Identity Hotel', timezone: 'Asia/Kolkata' });
  assert.equal(h.status, 201, JSON.stringify(h.body));
  const e = await rest(server, 'POST', 'events', {
    hotel_id: HOTEL, title: 'Day spa', category: 'wellness', is_hotel_service: true,
    starts_at: new Date(Date.now() + 3600000).toISOString(),
  });
  assert.equal(e.status, 201, JSON.stringify(e.body));
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** A JWT's claims (no verification: the server verified it). */
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** The `kiosk_results` joins the page sent: `{session, token}` for each. */
function resultJoins(page) {
  const out = [];
  for (const f of page.sockets.flatMap((w) => w.sent)) {
    const m = JSON.parse(f);
    const [event, payload] = Array.isArray(m) ? [m[3], m[4]] : [m.event, m.payload];
    if (event !== 'phx_join') continue;
    for (const b of payload?.config?.postgres_changes ?? []) {
      if (b.table === 'kiosk_results') out.push({ filter: b.filter, token: payload.access_token });
    }
  }
  return out;
}

async function sessionId(page) {
  const text = (await page.getByTestId('session-id').textContent()).trim();
  assert.match(text, UUID_RE);
  return text;
}

async function search(session, interests, token) {
  const r = await fetch(`${server.baseUrl}/api/event/by-interests?session_id=${session}`, {
    method: 'POST',
    headers: { apikey: server.keys.anon_key, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ interests, hotel_id: HOTEL }),
  });
  assert.equal(r.status, 201, await r.text());
}

async function until(what, ok, timeout = 10000) {
  const deadline = Date.now() + timeout;
  while (!(await ok())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the kiosk signs in anonymously, reads its results with its own token, and a reset brings a new user', async () => {
  const page = await newPage(browser);
  page.sockets = [];
  page.on('websocket', (ws) => {
    const rec = { sent: [] };
    ws.on('framesent', (f) => rec.sent.push(String(f.payload)));
    page.sockets.push(rec);
  });
  const signUps = [];
  const claimsSent = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() === 'POST' && path === '/auth/v1/signup') signUps.push(JSON.parse(r.postData() ?? '{}'));
    if (r.method() === 'POST' && path === '/rest/v1/kiosk_sessions') {
      claimsSent.push({ body: JSON.parse(r.postData()), auth: r.headers().authorization });
    }
  });
  await page.goto(`${server.baseUrl}/kiosk`);
  await page.getByTestId('attract').waitFor({ timeout: 15000 });
  const first = await sessionId(page);

  // One anonymous sign-up (no email, no password), one claim of the shown session as that user.
  assert.equal(signUps.length, 1);
  assert.equal(signUps[0].email, undefined);
  assert.equal(signUps[0].password, undefined);
  assert.equal(claimsSent.length, 1);
  assert.deepEqual(claimsSent[0].body, { id: first });
  const token1 = claimsSent[0].auth.replace(/^Bearer /, '');
  const user1 = claims(token1);
  assert.equal(user1.is_anonymous, true);
  assert.equal(user1.role, 'authenticated');

  // The results channel joins with that user's token, not the anon key.
  await until('the results join', () => resultJoins(page).length >= 1);
  const join1 = resultJoins(page)[0];
  assert.equal(join1.filter, `session_id=eq.${first}`);
  assert.equal(claims(join1.token).sub, user1.sub);

  // A search shows on the kiosk; its row is the kiosk user's, and the anon key alone reads nothing.
  await search(first, 'a spa', server.keys.anon_key);
  await page.getByTestId('event-card').first().waitFor({ timeout: 10000 });
  const anon = await rest(server, 'GET', `kiosk_results?session_id=eq.${first}`, undefined, { key: server.keys.anon_key });
  assert.equal(anon.status, 401, JSON.stringify(anon.body));
  const own = await rest(server, 'GET', `kiosk_results?session_id=eq.${first}`, undefined, { key: token1 });
  assert.equal(own.status, 200);
  assert.equal(own.body.length, 1);
  assert.equal(own.body[0].owner_id, user1.sub);

  // Idle reset: a new session, a new anonymous user, a new join with its token.
  await until('the reset', async () => (await page.getByTestId('attract').count()) === 1
    && (await sessionId(page)) !== first, 15000);
  const second = await sessionId(page);
  assert.equal(signUps.length, 2);
  assert.equal(claimsSent.length, 2);
  assert.deepEqual(claimsSent[1].body, { id: second });
  const user2 = claims(claimsSent[1].auth.replace(/^Bearer /, ''));
  assert.equal(user2.is_anonymous, true);
  assert.notEqual(user2.sub, user1.sub, 'a different user after the reset');
  await until('the second results join', () => resultJoins(page).length >= 2);
  const join2 = resultJoins(page).at(-1);
  assert.equal(join2.filter, `session_id=eq.${second}`);
  assert.equal(claims(join2.token).sub, user2.sub);

  // The new user reads nothing of the old session; the old user was signed out.
  const cross = await rest(server, 'GET', `kiosk_results?session_id=eq.${first}`, undefined, { key: join2.token });
  assert.deepEqual(cross.body, []);
  await until('the old user’s sign-out', async () => {
    const old = await fetch(`${server.baseUrl}/auth/v1/user`, {
      headers: { apikey: server.keys.anon_key, Authorization: `Bearer ${token1}` },
    });
    return old.status === 401 || old.status === 403;
  }, 5000);
  // Nothing about either user is kept in the browser.
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('the kiosk refreshes its user’s token before it expires, and realtime follows', async () => {
  // A 6 s token: refreshed 2–4 s after sign-in (a third of its life, plus jitter).
  const short = await startServer({ appConfig: { hotel_id: HOTEL, poll_base_ms: 60000, poll_max_ms: 60000 }, args: ['--access-token-ttl-secs', '6'] });
  try {
    const h = await rest(short, 'POST', 'hotels', { id: HOTEL, name: 'Identity Hotel', timezone: 'Asia/Kolkata' });
    assert.equal(h.status, 201, JSON.stringify(h.body));
    await rest(short, 'POST', 'events', {
      hotel_id: HOTEL, title: 'Day spa', category: 'wellness', is_hotel_service: true,
      starts_at: new Date(Date.now() + 3600000).toISOString(),
    });
    const page = await newPage(browser);
    page.sockets = [];
    page.on('websocket', (ws) => {
      const rec = { sent: [] };
      ws.on('framesent', (f) => rec.sent.push(String(f.payload)));
      page.sockets.push(rec);
    });
    let refreshes = 0;
    page.on('request', (r) => {
      if (r.url().includes('/auth/v1/token?grant_type=refresh_token')) refreshes += 1;
    });
    await page.goto(`${short.baseUrl}/kiosk`);
    await page.getByTestId('attract').waitFor({ timeout: 15000 });
    const session = await sessionId(page);
    await until('the results join', () => resultJoins(page).length >= 1);
    const user = claims(resultJoins(page)[0].token).sub;
    // Two refreshes: each new token goes to the joined channels as an `access_token` push.
    await until('two refreshes', () => refreshes >= 2, 15000);
    const pushed = () => page.sockets.flatMap((w) => w.sent).map((f) => JSON.parse(f))
      .map((m) => (Array.isArray(m) ? { event: m[3], payload: m[4] } : m))
      .filter((m) => m.event === 'access_token').map((m) => claims(m.payload.access_token));
    await until('an access_token push', () => pushed().length >= 1);
    assert.ok(pushed().every((c) => c.sub === user && c.is_anonymous === true), 'the same kiosk user');
    // After the first token's expiry, results still arrive over realtime.
    await page.waitForTimeout(2000);
    const r = await fetch(`${short.baseUrl}/api/event/by-interests?session_id=${session}`, {
      method: 'POST',
      headers: { apikey: short.keys.anon_key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ interests: 'a spa', hotel_id: HOTEL }),
    });
    assert.equal(r.status, 201);
    await page.getByTestId('event-card').first().waitFor({ timeout: 5000 });
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  } finally {
    await short.dispose();
  }
});
