#!/usr/bin/env node
// Browser benchmark: our kiosk against the seeds' stack (React 19 + supabase-js 2, bench/peer),
// one concierge-server, one headless Chromium, trials interleaved. Prints a table and, with
// --out FILE, writes the `## Browser: …` markdown section to FILE.
//
//   node run.mjs [--out FILE] [--json FILE] [--cold N] [--trials N]
//                [--server BIN] [--dist DIR] [--peer-dist DIR]
// Environment: CONCIERGE_SERVER_BIN, CONCIERGE_DIST, PEER_DIST, CONCIERGE_CHROMIUM.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { coldLoad, commitTrial, openLive, resultFor } from './measure.mjs';
import { launchBrowser } from './probe.mjs';
import { markdown, table } from './report.mjs';
import { layout, listFiles, removeDir, rest, startServer } from './server.mjs';
import { distSizes, loadedSizes, sizesOf } from './sizes.mjs';
import { mean, percentile } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const HOME = process.env.HOME;
const { values: opt } = parseArgs({
  options: {
    out: { type: 'string' },
    json: { type: 'string' },
    cold: { type: 'string', default: '11' },
    trials: { type: 'string', default: '60' },
    server: { type: 'string', default: process.env.CONCIERGE_SERVER_BIN ?? `${HOME}/.cache/concierge/target/debug/concierge-server` },
    dist: { type: 'string', default: process.env.CONCIERGE_DIST ?? `${HOME}/.cache/concierge/dist` },
    'peer-dist': { type: 'string', default: process.env.PEER_DIST ?? join(here, '..', 'peer', 'dist') },
  },
});
const COLD = Math.max(7, Number(opt.cold));
const TRIALS = Math.max(60, Number(opt.trials));
const WARMUP = 5;
const log = (...a) => console.error('[bench:browser]', ...a);

function ensurePeerBuilt(dist) {
  if (existsSync(join(dist, 'index.html'))) return;
  const project = join(here, '..', 'peer');
  log(`building the peer in ${project} (npm ci && npm run build)`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: project, stdio: ['ignore', 2, 2] });
  execFileSync('npm', ['run', 'build'], { cwd: project, stdio: ['ignore', 2, 2] });
}

/** Cold loads, interleaved ABBA so neither side always goes first; one warm-up each. */
async function coldLoads(browser, urls) {
  const out = { ours: [], peer: [] };
  for (const side of ['ours', 'peer']) await coldLoad(browser, urls[side]);
  for (let i = 0; i < COLD; i++) {
    for (const side of i % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
      out[side].push(await coldLoad(browser, urls[side]));
    }
    log(`cold ${i + 1}/${COLD}: ours ${out.ours.at(-1).liveMs.toFixed(0)} ms, peer ${out.peer.at(-1).liveMs.toFixed(0)} ms`);
  }
  return out;
}

async function commitTrials(browser, server, urls) {
  const config = await (await fetch(`${server.baseUrl}/config.json`)).json();
  const soon = Date.now() + 6 * 3600_000; // still upcoming when the run ends
  const events = (await rest(server, 'GET', `events?hotel_id=eq.${config.hotel_id}&select=*&order=starts_at.asc`))
    .filter((e) => Date.parse(e.ends_at ?? e.starts_at) > soon);
  if (events.length < 4) throw new Error(`only ${events.length} upcoming demo events`);
  const pages = {
    ours: await openLive(browser, urls.ours, { tapToStart: true }),
    peer: await openLive(browser, urls.peer),
  };
  const out = { ours: [], peer: [] };
  const run = Math.random().toString(36).slice(2, 8);
  // Warm-up (discarded): the first results through a fresh page pay for JIT and first renders.
  for (let i = 0; i < WARMUP; i++) {
    for (const side of ['ours', 'peer']) {
      await commitTrial(server, pages[side], resultFor(events, i, `${run}-warm-${side}-${i}`), `${run}-warm-${side}-${i}`);
    }
  }
  for (let i = 0; i < TRIALS; i++) {
    for (const side of i % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
      const marker = `${run}-${side}-${i}`;
      out[side].push(await commitTrial(server, pages[side], resultFor(events, i, marker), marker));
    }
    if ((i + 1) % 10 === 0) log(`commit→DOM ${i + 1}/${TRIALS}`);
  }
  const clockError = Math.max(pages.ours.clock.rtt, pages.peer.clock.rtt) / 2;
  const errors = { ours: pages.ours.traffic.errors, peer: pages.peer.traffic.errors };
  for (const p of Object.values(pages)) await p.context.close();
  return { out, clockError, errors };
}

function summarise(root, distDir, cold, commit) {
  const times = commit.map((t) => t.ms).filter((v) => v !== null);
  const wires = cold.map((c) => c.bytes);
  const encodings = [...new Set(cold.flatMap((c) => c.files.map((f) => f.contentEncoding).filter(Boolean)))];
  const wasm = listFiles(distDir).filter((f) => f.endsWith('.wasm'));
  return {
    cold: cold.map((c) => c.liveMs),
    coldP50: percentile(cold.map((c) => c.liveMs), 50),
    coldP90: percentile(cold.map((c) => c.liveMs), 90),
    commit: times,
    commitP50: percentile(times, 50),
    commitP90: percentile(times, 90),
    commitP99: percentile(times, 99),
    failed: commit.length - times.length,
    notLive: commit.filter((t) => !t.wasLive).length,
    restPerResult: mean(commit.map((t) => t.rest)),
    joinsPerResult: mean(commit.map((t) => t.joins)),
    caused: commit.at(-1)?.caused ?? [],
    wire: percentile(wires, 50),
    encodings: encodings.join(', '),
    loaded: loadedSizes(root, cold[0].files),
    dist: distSizes(distDir),
    wasm: sizesOf(distDir, wasm),
  };
}

async function main() {
  for (const [what, path] of [['server binary', opt.server], ['our dist', opt.dist]]) {
    if (!existsSync(path)) throw new Error(`${what} not found: ${path}`);
  }
  ensurePeerBuilt(opt['peer-dist']);
  const served = layout(resolve(opt.dist), resolve(opt['peer-dist']));
  let server;
  let browser;
  try {
    // A long idle timeout: our kiosk must not reset its session in the middle of the trials.
    server = await startServer({
      bin: opt.server, staticDir: served.root, workDir: served.dir,
      appConfig: { idle_timeout_ms: 3_600_000 },
    });
    browser = await launchBrowser();
    const urls = { ours: `${server.baseUrl}/kiosk`, peer: `${server.baseUrl}/peer/` };
    log(`server ${server.baseUrl}, Chromium ${browser.version()}; ${COLD} cold loads and ${TRIALS} commit trials each`);
    const cold = await coldLoads(browser, urls);
    const commit = await commitTrials(browser, server, urls);
    const result = {
      env: {
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        // The load average says whether other work shared the cores during the run.
        machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, load average ${loadavg()[0].toFixed(1)} at the end`,
        chromium: browser.version(),
        server: opt.server.replace(HOME, '~'),
        precompressed: served.precompressed,
        acceptEncoding: cold.ours[0].acceptEncoding,
        clockError: commit.clockError,
      },
      ours: summarise(served.root, opt.dist, cold.ours, commit.out.ours),
      peer: summarise(served.root, opt['peer-dist'], cold.peer, commit.out.peer),
      pageErrors: commit.errors,
    };
    console.log(table(result));
    if (opt.out) writeFileSync(opt.out, markdown(result));
    if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2));
    for (const [side, errs] of Object.entries(result.pageErrors)) {
      if (errs.length) log(`${side}: page errors: ${errs.join('; ')}`);
    }
  } finally {
    await browser?.close();
    await server?.stop();
    removeDir(served.dir);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
