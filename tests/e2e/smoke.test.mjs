// The walking skeleton's promise: the release build, served by our own backend, runs in a real
// browser (the WebAssembly started, the router rendered the kiosk, a session id exists).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, UUID_RE } from './harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('serves health and config', async () => {
  assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
  const cfg = await (await fetch(`${server.baseUrl}/config.json`)).json();
  assert.equal(cfg.anon_key, server.keys.anon_key);
  assert.equal(cfg.hotel_id, 'marriott-bangalore');
});

test('/kiosk renders from the release build with a UUID v4 session id', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.baseUrl}/kiosk`);
  const id = page.getByTestId('session-id');
  await id.waitFor({ timeout: 15000 });
  assert.match((await id.textContent()).trim(), UUID_RE);
  await screenshot(page, 'smoke-kiosk');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('/ redirects to /kiosk and client routes fall back to the app', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.baseUrl}/`);
  await page.getByTestId('session-id').waitFor({ timeout: 15000 });
  assert.equal(new URL(page.url()).pathname, '/kiosk');
  for (const route of ['/session', '/staff']) {
    const r = await fetch(`${server.baseUrl}${route}`);
    assert.equal(r.status, 200, route);
    assert.match(await r.text(), /<html/i, route);
  }
  await page.context().close();
});

test('a new kiosk load gets a new session id', async () => {
  const ids = [];
  for (let i = 0; i < 2; i++) {
    const page = await newPage(browser);
    await page.goto(`${server.baseUrl}/kiosk`);
    const id = page.getByTestId('session-id');
    await id.waitFor({ timeout: 15000 });
    ids.push((await id.textContent()).trim());
    await page.context().close();
  }
  assert.notEqual(ids[0], ids[1]);
});

test('a config without anon_key shows a clear error screen, not a blank page', async () => {
  const bad = await startServer({ appConfig: { anon_key: '' } });
  try {
    const page = await newPage(browser);
    await page.goto(`${bad.baseUrl}/kiosk`);
    const err = page.getByTestId('config-error');
    await err.waitFor({ timeout: 15000 });
    assert.match(await err.textContent(), /anon_key/);
    await screenshot(page, 'config-error');
    await page.context().close();
  } finally {
    await bad.dispose();
  }
});
