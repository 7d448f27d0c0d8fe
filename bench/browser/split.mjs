#!/usr/bin/env node
// Where commit→DOM time goes, per page: the same interleaved trials as run.mjs, with the
// WebSocket frame carrying each trial's marker timestamped in the page (a `message` listener
// added before the page's own handler) next to the MutationObserver's time. Splits each trial
// into commit → frame in the page (server + network) and frame → text in the DOM (the page's
// own work). A diagnostic, not part of the published benchmark.
//
//   node split.mjs [--trials N] [--server BIN] [--dist DIR] [--peer-dist DIR]
import { parseArgs } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { openLive, resultFor } from './measure.mjs';
import { launchBrowser } from './probe.mjs';
import { layout, removeDir, rest, startServer } from './server.mjs';
import { percentile, sleep, until } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    trials: { type: 'string', default: '60' },
    server: { type: 'string', default: process.env.CONCIERGE_SERVER_BIN },
    dist: { type: 'string', default: process.env.CONCIERGE_DIST },
    'peer-dist': { type: 'string', default: join(here, '..', 'peer', 'dist') },
  },
});

/** Runs in the page before its scripts: the frame time of each watched marker. */
function frameProbe() {
  const arrived = {};
  window.__frames = arrived;
  const Native = window.WebSocket;
  class Probed extends Native {
    constructor(...args) {
      super(...args);
      let tail = false;
      this.addEventListener('message', (e) => {
        const at = performance.timeOrigin + performance.now();
        // A second listener, added once the page's own handler is in place, runs after that
        // handler and the microtasks it queued (a framework's synchronous render included).
        if (!tail) {
          tail = true;
          this.addEventListener('message', (e2) => {
            const done = performance.timeOrigin + performance.now();
            for (const [m, a] of Object.entries(arrived)) if (a.done === undefined && e2.data === a.data) { a.done = done; delete a.data; }
          });
        }
        if (typeof e.data !== 'string' || !window.__bench) return;
        for (const m of window.__bench.watch) if (e.data.includes(m)) arrived[m] = { at, bytes: e.data.length, data: e.data };
      });
    }
  }
  window.WebSocket = Probed;
}

async function trial(server, k, results, marker) {
  await k.page.evaluate((m) => window.__bench.watch.add(m), marker);
  const t0 = performance.timeOrigin + performance.now();
  await rest(server, 'POST', 'kiosk_results', { session_id: k.sessionId, results });
  const seen = await until(() => k.page.evaluate((m) => window.__bench.seen[m] ?? null, marker), 5000, 10);
  const frame = await k.page.evaluate((m) => window.__frames[m] ?? null, marker);
  await sleep(100);
  if (seen === null || frame === null) return null;
  return { total: seen - k.clock.offset - t0, wire: frame.at - k.clock.offset - t0, page: seen - frame.at, handler: (frame.done ?? NaN) - frame.at, bytes: frame.bytes };
}

const row = (name, xs) => `${name.padEnd(28)} p50 ${percentile(xs, 50).toFixed(2).padStart(6)}  p90 ${percentile(xs, 90).toFixed(2).padStart(6)}  min ${Math.min(...xs).toFixed(2).padStart(6)}`;

async function main() {
  const served = layout(resolve(opt.dist), resolve(opt['peer-dist']));
  const server = await startServer({ bin: opt.server, staticDir: served.root, workDir: served.dir, appConfig: { idle_timeout_ms: 3_600_000 } });
  const browser = await launchBrowser();
  try {
    const config = await (await fetch(`${server.baseUrl}/config.json`)).json();
    const soon = Date.now() + 6 * 3600_000;
    const events = (await rest(server, 'GET', `events?hotel_id=eq.${config.hotel_id}&select=*&order=starts_at.asc`))
      .filter((e) => Date.parse(e.ends_at ?? e.starts_at) > soon);
    const open = async (url, o) => {
      // openLive's context gets the frame probe too (added before navigation).
      const orig = browser.newContext.bind(browser);
      browser.newContext = async (...a) => { const c = await orig(...a); await c.addInitScript(frameProbe); return c; };
      try { return await openLive(browser, url, o); } finally { browser.newContext = orig; }
    };
    const pages = { ours: await open(`${server.baseUrl}/kiosk`, { tapToStart: true }), peer: await open(`${server.baseUrl}/peer/`) };
    const out = { ours: [], peer: [] };
    const run = Math.random().toString(36).slice(2, 8);
    const n = Number(opt.trials);
    for (let i = -5; i < n; i++) {
      for (const side of i % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
        const marker = `${run}-${side}-${i}`;
        const r = await trial(server, pages[side], resultFor(events, i + 5, marker), marker);
        if (i >= 0 && r) out[side].push(r);
      }
    }
    for (const side of ['ours', 'peer']) {
      const xs = out[side];
      console.log(`${side} (${xs.length} trials, frame ${xs[0]?.bytes} chars)`);
      console.log(row('  commit → DOM', xs.map((x) => x.total)));
      console.log(row('  commit → frame in page', xs.map((x) => x.wire)));
      console.log(row('  frame → DOM (page work)', xs.map((x) => x.page)));
      console.log(row('  … in the frame\'s own task', xs.map((x) => x.handler).filter(Number.isFinite)));
    }
    console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await browser.close();
    await server.stop();
    removeDir(served.dir);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
