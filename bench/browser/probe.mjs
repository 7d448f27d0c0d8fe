// What the harness puts in each page, before any of the page's own scripts run: one
// MutationObserver that notes (a) when the connection indicator first reads "Live" and
// (b) when a watched text first appears in the DOM. Times are taken inside the observer
// callback, so no round trip to node is counted.
import { chromium } from 'playwright-core';

/** Runs in the page (serialised by playwright): keep it self-contained. */
function probe() {
  const b = { liveAt: null, watch: new Set(), seen: {} };
  window.__bench = b;
  const look = (text, at) => {
    if (!text) return;
    for (const marker of b.watch) {
      if (text.includes(marker)) {
        b.seen[marker] = at;
        b.watch.delete(marker);
      }
    }
  };
  new MutationObserver((records) => {
    const now = performance.now();
    if (b.liveAt === null) {
      const el = document.querySelector('[data-testid="connection"]');
      if (el && el.textContent.trim() === 'Live') b.liveAt = now;
    }
    if (b.watch.size === 0) return;
    // Wall-clock time (same machine clock as node), at sub-millisecond resolution.
    const at = performance.timeOrigin + now;
    for (const r of records) {
      if (r.type === 'characterData') look(r.target.data, at);
      else for (const n of r.addedNodes) look(n.textContent, at);
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

/** `phx_join <topic> [table:filter …]`, from a vsn 2.0.0 (array) or 1.0.0 (object) frame. */
function describeJoin(frame) {
  try {
    const m = JSON.parse(frame);
    const [topic, payload] = Array.isArray(m) ? [m[2], m[4]] : [m.topic, m.payload];
    const changes = (payload?.config?.postgres_changes ?? []).map((c) => `${c.table}:${c.filter ?? '*'}`);
    return `phx_join ${topic} [${changes.join(' ')}]`;
  } catch {
    return `phx_join ${frame.slice(0, 120)}`;
  }
}

/** Headless Debian Chromium; the flags keep it off the (closed) network at start. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CONCIERGE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
  });
}

/**
 * A fresh context (own HTTP cache, cookies, storage) with the probe installed, and counters
 * for what the page sends: REST requests and realtime channel joins, with their times.
 */
export async function openContext(browser) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  const traffic = { rest: [], joins: [], errors: [] };
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname.startsWith('/rest/v1/')) traffic.rest.push(`${req.method()} ${u.pathname}${decodeURIComponent(u.search)}`);
  });
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => {
      const frame = String(f.payload);
      if (frame.includes('"phx_join"')) traffic.joins.push(describeJoin(frame));
    });
  });
  page.on('pageerror', (e) => traffic.errors.push(e.message));
  return { context, page, traffic };
}

/**
 * The page's clock minus node's, both as wall-clock ms: the reading with the shortest round
 * trip of a few, so the error is below half of that round trip.
 */
export async function clockOffset(page) {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 15; i++) {
    const t0 = performance.timeOrigin + performance.now();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = performance.timeOrigin + performance.now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: p - (t0 + t1) / 2 };
  }
  return best;
}
