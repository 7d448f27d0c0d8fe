// End-to-end harness: a real concierge-server (fresh database, demo data, the release build of
// the app) and headless Debian Chromium driven by playwright-core. Nothing is mocked.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SERVER_BIN = process.env.CONCIERGE_SERVER_BIN
  ?? `${process.env.HOME}/.cache/concierge/target/debug/concierge-server`;
export const DIST = process.env.CONCIERGE_DIST ?? `${process.env.HOME}/.cache/concierge/dist`;
export const SCREENSHOTS = join(here, 'screenshots');
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(baseUrl, proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`concierge-server exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`concierge-server did not become healthy at ${baseUrl}`);
}

/**
 * Starts concierge-server on a free port with a fresh database.
 * @param {{appConfig?: object, args?: string[], env?: object}} opts
 *   appConfig: keys merged into /config.json (short intervals for tests).
 * @returns {Promise<{baseUrl, port, keys: {anon_key, service_role_key}, stop(), start(), logs(): string}>}
 */
export async function startServer(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const cfgPath = join(dir, 'app-config.json');
  writeFileSync(cfgPath, JSON.stringify(opts.appConfig ?? {}));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', ...(opts.env ?? {}) };
  const args = ['--addr', `127.0.0.1:${port}`, '--db', join(dir, 'e2e.db'), '--static-dir', DIST,
    '--seed-demo', '--app-config', cfgPath, ...(opts.args ?? [])];
  const keys = JSON.parse(execFileSync(SERVER_BIN, ['keys'], { env }).toString());
  let output = '';
  let proc = null;
  const handle = {
    baseUrl, port, keys, dir,
    logs: () => output,
    async start() {
      proc = spawn(SERVER_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout.on('data', (d) => { output += d; });
      proc.stderr.on('data', (d) => { output += d; });
      await waitHealthy(baseUrl, proc);
    },
    /** Stops the server (the database stays, so start() resumes with the same data). */
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    async dispose() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** Headless Debian Chromium; flags keep it off the (closed) network at start. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CONCIERGE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records console errors and page errors (uncaught exceptions, wasm panics). */
export async function newPage(browser, viewport = { width: 1920, height: 1080 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => page.consoleErrors.push(`pageerror: ${e.message}`));
  return page;
}

/** `opts`: playwright's screenshot options (e.g. `{ fullPage: true }`). */
export async function screenshot(page, name, opts = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ ...opts, path: join(SCREENSHOTS, `${name}.png`) });
}

/** REST helper with the service role (bypasses row rules), for arranging test data. */
export async function rest(server, method, path, body, { key, headers } = {}) {
  const token = key ?? server.keys.service_role_key;
  const r = await fetch(`${server.baseUrl}/rest/v1/${path}`, {
    method,
    headers: {
      apikey: server.keys.anon_key,
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Prefer: 'return=representation',
      ...(headers ?? {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
