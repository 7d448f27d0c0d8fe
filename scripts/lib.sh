# Shared by scripts/run, scripts/test and scripts/bench: paths, and installing what a fresh
# machine lacks. Every install is skipped when the right version is already there.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CONCIERGE_CACHE:-$HOME/.cache/concierge}"
# Builds live outside the clone so repeated runs (and fresh CI clones) stay fast.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
TOOLS="$CACHE/tools"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"
DIST="${CONCIERGE_DIST:-$CACHE/dist}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The Rust side: wasm target, wasm-bindgen-cli (must equal the crate in Cargo.lock), Trunk,
# and binaryen's wasm-opt >= 110 (Debian's 108 silently breaks the module in Chromium).
ensure_build_tools() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0.2.130'; then
    log "installing wasm-bindgen-cli 0.2.130 (a few minutes)"
    # Not --locked: its packaged lock wants a webpki-roots version the registry lacks.
    cargo install wasm-bindgen-cli --version 0.2.130
  fi
  if ! trunk --version 2>/dev/null | grep -q ' 0.21.14'; then
    log "installing trunk 0.21.14 (about 10 minutes on 2 cores)"
    cargo install trunk --version 0.21.14 --locked
  fi
  if ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
    log "installing binaryen 132 (wasm-opt) from npm"
    command -v npm >/dev/null || die "npm is missing: install Node.js 20"
    mkdir -p "$TOOLS"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" binaryen@132 >&2
  fi
}

# Headless Chromium and ChromeDriver from Debian's packages (never a downloaded browser).
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing chromium and chromium-driver from Debian"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2
  fi
  export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
  export CONCIERGE_CHROMIUM="${CONCIERGE_CHROMIUM:-$(command -v chromium)}"
}

# npm ci in a test package, skipped when node_modules matches the lockfile.
ensure_node_package() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.concierge-lock"; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --silent --no-audit --no-fund >&2 && cp package-lock.json node_modules/.concierge-lock)
  fi
}

# Release build of the app (wasm-opt -Oz) into $DIST: every page from index.html, and the
# kiosk's own smaller build (kiosk.html, src/bin/kiosk.rs) into $DIST/kiosk/, which
# concierge-server serves at /kiosk.
build_app() {
  log "building the app (release, wasm-opt -Oz)"
  (cd "$ROOT" && cargo fetch --quiet && trunk build --release --dist "$DIST" >&2) || return 1
  (cd "$ROOT" && trunk build --release --dist "$DIST/kiosk" --public-url /kiosk/ kiosk.html >&2) || return 1
  precompress "$DIST"
  precompress "$DIST/kiosk"
}

# Brotli 11 and gzip -9 twins of the app's text and wasm files, made once per build, so that
# every server start (the end-to-end tests start dozens) adopts them instead of compressing;
# concierge-server checks each twin decodes to its file before it serves it.
precompress() {
  node -e '
    const fs = require("fs"), path = require("path"), zlib = require("zlib");
    const dir = process.argv[1];
    for (const name of fs.readdirSync(dir)) {
      if (!/\.(html|js|css|wasm|json|svg)$/.test(name)) continue;
      const raw = fs.readFileSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name + ".br"), zlib.brotliCompressSync(raw, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
      fs.writeFileSync(path.join(dir, name + ".gz"), zlib.gzipSync(raw, { level: 9 }));
    }' "$1"
}

build_server() {
  local profile="${1:-debug}"
  log "building concierge-server ($profile)"
  if [ "$profile" = release ]; then
    (cd "$ROOT" && cargo build --quiet --release -p concierge-server)
  else
    (cd "$ROOT" && cargo build --quiet -p concierge-server)
  fi
  SERVER_BIN="$CARGO_TARGET_DIR/$profile/concierge-server"
}
