// One concierge-server serving both kiosks from one static directory: our app's dist at the
// root (`/kiosk`) and the peer's dist under `/peer/`. Same process, same origin, same static
// file code, same /config.json, same REST and realtime endpoints: the two pages are served
// exactly alike, and neither pays a CORS preflight the other does not.
// (Pattern copied from tests/e2e/harness.mjs, which this bench must not import.)
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zc } from 'node:zlib';

export const PRECOMPRESSED = { br: '.br', gzip: '.gz', zstd: '.zst' };
const COMPRESSED_EXT = /\.(br|gz|zst)$/;

async function freePort() {
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

/** Every file under `dir` (relative paths), precompressed siblings excluded. */
export function listFiles(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(join(dir, prefix))) {
    if (name.startsWith('.')) continue; // e.g. Trunk's `.stage` while a build is under way
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else if (!COMPRESSED_EXT.test(name)) out.push(rel);
  }
  return out;
}

export const gzip9 = (buf) => gzipSync(buf, { level: 9 });
export const brotli11 = (buf) => brotliCompressSync(buf, {
  params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: buf.length },
});

/**
 * Lays out the served directory. If our build ships precompressed siblings (`app.wasm.br`),
 * the peer gets the same kinds, made the same way, so "served precompressed exactly like our
 * app" holds whether precompression happens at build time or at server start-up.
 */
export function layout(ourDist, peerDist) {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-bench-browser-'));
  const root = join(dir, 'static');
  cpSync(ourDist, root, { recursive: true });
  if (existsSync(join(root, 'peer'))) throw new Error(`${ourDist} already has a peer/ folder`);
  cpSync(peerDist, join(root, 'peer'), { recursive: true });
  const ours = readdirSync(ourDist, { recursive: true }).map(String);
  const kinds = ['.br', '.gz', '.zst'].filter((ext) => ours.some((f) => f.endsWith(ext)));
  for (const rel of listFiles(join(root, 'peer'))) {
    const path = join(root, 'peer', rel);
    const raw = readFileSync(path);
    if (kinds.includes('.br')) writeFileSync(`${path}.br`, brotli11(raw));
    if (kinds.includes('.gz')) writeFileSync(`${path}.gz`, gzip9(raw));
    // node 20's zlib has no zstd; a .zst in our dist is reported, not mirrored.
  }
  return { dir, root, precompressed: kinds };
}

async function waitHealthy(baseUrl, proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`concierge-server exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`concierge-server did not become healthy at ${baseUrl}`);
}

/**
 * Starts concierge-server on a free port with a fresh database, the demo catalogue and
 * `staticDir`. `appConfig` is merged into /config.json.
 */
export async function startServer({ bin, staticDir, workDir, appConfig }) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const cfgPath = join(workDir, 'app-config.json');
  writeFileSync(cfgPath, JSON.stringify(appConfig ?? {}));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  const keys = JSON.parse(execFileSync(bin, ['keys'], { env }).toString());
  const args = ['--addr', `127.0.0.1:${port}`, '--db', join(workDir, 'bench.db'),
    '--static-dir', staticDir, '--seed-demo', '--app-config', cfgPath,
    // Both kiosks sign in anonymously at every load (a new user per trial): room for many
    // trials from one address.
    '--anonymous-sign-up-burst', '100000', '--anonymous-sign-ups-per-hour', '1000000'];
  let output = '';
  const proc = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  try {
    await waitHealthy(baseUrl, proc);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${output}`);
  }
  return {
    baseUrl,
    keys,
    logs: () => output,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** REST with the service role (bypasses row rules), as another client of the server would. */
export async function rest(server, method, path, body) {
  const r = await fetch(`${server.baseUrl}/rest/v1/${path}`, {
    method,
    headers: {
      apikey: server.keys.anon_key,
      Authorization: `Bearer ${server.keys.service_role_key}`,
      'Content-Type': 'application/json',
      Prefer: 'return=minimal',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
