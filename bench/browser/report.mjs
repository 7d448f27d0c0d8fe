// The comparison as a plain-text table (stdout) and as a markdown section for BENCHMARKS.md.
import { kib, ms } from './stats.mjs';

export const SECTION = '## Browser: app vs React + supabase-js';

function ratio(ours, peer) {
  if (!Number.isFinite(ours) || !Number.isFinite(peer)) return '—';
  if (peer === 0) return ours === 0 ? '—' : '∞';
  return `${(ours / peer).toFixed(2)}×`;
}

const sizes = (t) => `${kib(t.raw)} raw, ${kib(t.gzip)} gzip -9, ${kib(t.brotli)} brotli 11 (${t.files} files)`;
// `id=in.(a,b,c,d)` → `id=in.(4 ids)`: the filter's shape matters here, not the ids.
const short = (c) => c.replace(/in\.\(([^)]*)\)/g, (_, ids) => `in.(${ids.split(',').length} ids)`);
const said = (list) => (list.length ? list.map((c) => `\`${short(c)}\``).join(', ') : 'nothing');
const count = (v) => (Number.isFinite(v) ? v.toFixed(2) : '—');

/** Rows of [figure, ours, peer, ratio]; `r` is what run.mjs collected. */
export function rows(r) {
  const row = (name, o, p, fmt) => [name, fmt(o), fmt(p), ratio(o, p)];
  const { ours: o, peer: p } = r;
  return [
    row('bytes on the wire, one cold load (all requests)', o.wire, p.wire, kib),
    row('static files a cold load fetches, raw', o.loaded.raw, p.loaded.raw, kib),
    row('… gzip -9', o.loaded.gzip, p.loaded.gzip, kib),
    row('… brotli 11', o.loaded.brotli, p.loaded.brotli, kib),
    row(`cold load to "Live", p50 of ${o.cold.length}`, o.coldP50, p.coldP50, ms),
    row(`cold load to "Live", p90 of ${o.cold.length}`, o.coldP90, p.coldP90, ms),
    row(`commit → DOM, p50 of ${o.commit.length}`, o.commitP50, p.commitP50, ms),
    row(`commit → DOM, p90 of ${o.commit.length}`, o.commitP90, p.commitP90, ms),
    row(`commit → DOM, p99 of ${o.commit.length}`, o.commitP99, p.commitP99, ms),
    row('REST calls per arriving result while live (mean)', o.restPerResult, p.restPerResult, count),
    row('channel joins per arriving result while live (mean)', o.joinsPerResult, p.joinsPerResult, count),
  ];
}

export function table(r) {
  const all = [['figure', 'ours', 'peer', 'ratio'], ...rows(r)];
  const widths = all[0].map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export function markdown(r) {
  const { ours: o, peer: p, env } = r;
  const lines = [
    SECTION,
    '',
    `One run, ${env.date}: ${env.machine}; Chromium ${env.chromium} headless; ` +
      `concierge-server \`${env.server}\`. Ratio = ours ÷ peer (≤ 1.00× means we are at least as good).`,
    '',
    '| figure | this app | React + supabase-js | ratio |',
    '|---|---|---|---|',
    ...rows(r).map((row) => `| ${row.join(' | ')} |`),
    '',
    `- Both pages come from one concierge-server (ours at \`/kiosk\`, the peer at \`/peer/\` of the same static dir, ` +
      `same origin, same /config.json)` +
      (env.precompressed.length ? `; our dist ships ${env.precompressed.join(', ')} siblings and the peer got the same kinds.` : '; neither dist ships precompressed files.'),
    `- Chromium sent \`Accept-Encoding: ${env.acceptEncoding || '?'}\`; content encodings served: ` +
      `ours ${o.encodings || 'none'}, peer ${p.encodings || 'none'}.`,
    `- Cold load: a fresh browser context per trial (empty HTTP cache), ours and the peer's interleaved, ` +
      `one discarded warm-up each; time from navigation start to the connection indicator reading "Live", ` +
      `taken in the page by a MutationObserver.`,
    `- Commit → DOM: ${o.commit.length} trials per page, interleaved (ABBA); a \`kiosk_results\` row POSTed over REST ` +
      `with the service role (after 5 discarded warm-up trials each), from just before the POST (node) to the moment a MutationObserver saw the row's unique ` +
      `title in the page (page clock, offset to node's measured to ±${env.clockError.toFixed(2)} ms). ` +
      `Our kiosk was past its attract screen ("Tap to start").` +
      (o.failed + p.failed ? ` Trials that never showed their text: ours ${o.failed}, peer ${p.failed}.` : ''),
    `- REST calls and channel joins: requests to \`/rest/v1/\` and \`phx_join\` frames a page sent from the POST ` +
      `until 300 ms after the text appeared.` +
      (o.notLive + p.notLive ? ` Trials started while not "Live": ours ${o.notLive}, peer ${p.notLive}.` : ''),
    `- What the last arriving result caused — ours: ${said(o.caused)}; peer: ${said(p.caused)}.`,
    `- Whole dists (every built file): ours ${sizes(o.dist)}; peer ${sizes(p.dist)}.`,
    `- Our wasm: ${kib(o.wasm.raw)} raw, ${kib(o.wasm.gzip)} gzip -9, ${kib(o.wasm.brotli)} brotli 11. ` +
      `Files a cold load fetches — ours: ${o.loaded.list.join(', ')}; peer: ${p.loaded.list.join(', ')}.`,
    `- Reproduce: \`(cd bench/peer && npm ci && npm run build) && (cd bench/browser && npm ci && node run.mjs)\`.`,
    '',
  ];
  return lines.join('\n');
}
