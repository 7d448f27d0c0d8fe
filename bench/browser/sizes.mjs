// Static sizes: raw, gzip -9 and brotli 11 of a set of built files, computed here (not read
// from the server) so they do not depend on how the files happen to be served.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotli11, gzip9, listFiles } from './server.mjs';

const NOT_STATIC = ['/rest/', '/auth/', '/api/', '/realtime/', '/config.json', '/healthz'];

/** Sizes of the given files (paths relative to `root`), summed. */
export function sizesOf(root, rels) {
  const total = { raw: 0, gzip: 0, brotli: 0, files: rels.length };
  for (const rel of rels) {
    const buf = readFileSync(join(root, rel));
    total.raw += buf.length;
    total.gzip += gzip9(buf).length;
    total.brotli += brotli11(buf).length;
  }
  return total;
}

/** Sizes of every file of a dist (precompressed siblings excluded). */
export function distSizes(dir) {
  return sizesOf(dir, listFiles(dir));
}

/**
 * The file a URL path was served from, as the server resolves it: the file itself, a
 * folder's index.html, or the app's index.html for client routes (`/kiosk`). API paths and
 * /config.json are not files.
 */
export function fileFor(root, urlPath) {
  if (NOT_STATIC.some((p) => urlPath.startsWith(p))) return null;
  const rel = decodeURIComponent(urlPath).replace(/^\/+/, '');
  const path = join(root, rel);
  if (rel && existsSync(path) && statSync(path).isFile()) return rel;
  if (existsSync(join(path, 'index.html'))) return join(rel, 'index.html');
  return 'index.html';
}

/** Sizes of the static files one cold load fetched (deduplicated). */
export function loadedSizes(root, fetched) {
  const rels = [...new Set(fetched.map((f) => fileFor(root, f.path)).filter(Boolean))];
  return { ...sizesOf(root, rels), list: rels };
}
