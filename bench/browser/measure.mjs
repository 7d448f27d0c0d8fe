// The two measurements that need a page: a cold load (fresh context, navigate, until the
// connection indicator reads "Live", with every byte the load fetched), and one commit→DOM
// trial (a kiosk_results row written over REST until its text is in the page's DOM).
import { openContext, clockOffset } from './probe.mjs';
import { rest } from './server.mjs';
import { sleep, until } from './stats.mjs';

/** How long after a trial's text appears we keep counting what the result caused. */
const SETTLE_MS = 300;

async function inPage(page, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch {
    return null; // the page is mid-navigation; ask again
  }
}

/**
 * One cold load of `url` in a fresh context. Bytes are CDP's `encodedDataLength` (what came
 * over the socket, headers included) of every request the page made, summed once the page
 * has been quiet for a moment after "Live".
 */
export async function coldLoad(browser, url) {
  const { context, page, traffic } = await openContext(browser);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();
  let last = Date.now();
  let inflight = 0;
  cdp.on('Network.requestWillBeSent', (e) => {
    if (!requests.has(e.requestId)) inflight++;
    requests.set(e.requestId, { url: e.request.url, bytes: 0, done: false });
    last = Date.now();
  });
  // The headers as sent (Accept-Encoding is added by the network stack, so only here).
  let acceptEncoding = '';
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const ae = Object.entries(e.headers).find(([k]) => k.toLowerCase() === 'accept-encoding');
    if (ae && !acceptEncoding) acceptEncoding = ae[1];
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.contentEncoding = e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'];
  });
  const finish = (e, bytes) => {
    const r = requests.get(e.requestId);
    if (!r || r.done) return;
    r.done = true;
    r.bytes = bytes;
    inflight--;
    last = Date.now();
  };
  cdp.on('Network.loadingFinished', (e) => finish(e, e.encodedDataLength));
  cdp.on('Network.loadingFailed', (e) => finish(e, 0));

  await page.goto(url, { waitUntil: 'commit' });
  const liveMs = await until(() => inPage(page, () => window.__bench?.liveAt ?? null), 20000, 25);
  if (liveMs === null) throw new Error(`${url}: never showed "Live" (errors: ${traffic.errors.join('; ')})`);
  // Whatever the load still fetches after "Live" (a hotel's details, fonts) counts as well.
  await until(() => (inflight <= 0 && Date.now() - last > 300 ? true : null), 5000, 50);
  await context.close();
  // Not the browser's own `/favicon.ico` probe: neither page asks for it, both would pay it.
  const files = [...requests.values()]
    .filter((r) => r.url.startsWith('http') && r.done && new URL(r.url).pathname !== '/favicon.ico');
  return {
    liveMs,
    bytes: files.reduce((a, r) => a + r.bytes, 0),
    files: files.map(({ url: u, bytes, contentEncoding }) => ({ path: new URL(u).pathname, bytes, contentEncoding })),
    acceptEncoding,
    errors: traffic.errors,
  };
}

/** Opens a kiosk for the commit→DOM trials and waits until it is live. */
export async function openLive(browser, url, { tapToStart = false } = {}) {
  const k = await openContext(browser);
  await k.page.goto(url);
  const live = await until(() => inPage(k.page, () => window.__bench?.liveAt ?? null), 20000, 25);
  if (live === null) throw new Error(`${url}: never showed "Live" (errors: ${k.traffic.errors.join('; ')})`);
  k.sessionId = (await k.page.getByTestId('session-id').textContent()).trim();
  if (tapToStart) {
    // Our kiosk opens on its attract screen; a guest's tap brings up the results view.
    await k.page.getByRole('button', { name: 'Tap to start' }).click();
    await k.page.getByTestId('explore').waitFor({ timeout: 10000 });
  }
  k.clock = await clockOffset(k.page);
  return k;
}

/**
 * One trial: a `kiosk_results` row for the kiosk's session, with `marker` in a card title,
 * written over REST; commit→DOM is from just before the POST (node's clock) to the moment the
 * page's observer saw the text (page clock, corrected by the measured offset).
 */
export async function commitTrial(server, kiosk, results, marker) {
  const connection = await kiosk.page.evaluate((m) => {
    window.__bench.watch.add(m);
    return document.querySelector('[data-testid="connection"]')?.textContent.trim();
  }, marker);
  const rest0 = kiosk.traffic.rest.length;
  const joins0 = kiosk.traffic.joins.length;
  const t0 = performance.timeOrigin + performance.now();
  await rest(server, 'POST', 'kiosk_results', { session_id: kiosk.sessionId, results });
  const seen = await until(() => kiosk.page.evaluate((m) => window.__bench.seen[m] ?? null, marker), 5000, 10);
  await sleep(SETTLE_MS);
  return {
    ms: seen === null ? null : seen - kiosk.clock.offset - t0,
    rest: kiosk.traffic.rest.length - rest0,
    joins: kiosk.traffic.joins.length - joins0,
    // What they were, for the report (REST paths with their filters; joins' first bytes).
    caused: [...kiosk.traffic.rest.slice(rest0), ...kiosk.traffic.joins.slice(joins0)],
    wasLive: connection === 'Live',
  };
}

/**
 * A realistic search result: a few upcoming demo events (a different few each trial, so a
 * client that subscribes per result set cannot reuse its last subscription), the first one
 * titled with `marker`. That copy is stamped `updated_at: now` — newer than the catalogue's
 * row — so a client that prefers the catalogue's newer version still shows the marker.
 */
export function resultFor(events, trial, marker) {
  const n = Math.min(4, events.length);
  const picked = Array.from({ length: n }, (_, j) => events[(trial * 3 + j) % events.length]);
  const [first, ...rest] = picked;
  return {
    interests: 'benchmark',
    categories: [...new Set(picked.map((e) => e.category))],
    events: [{ ...first, title: `Bench ${marker}`, updated_at: new Date().toISOString() }, ...rest],
  };
}
