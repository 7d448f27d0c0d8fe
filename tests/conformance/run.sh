#!/usr/bin/env bash
# Conformance suite: the official supabase-js (and a raw `ws` client) against a freshly started
# concierge-server, once per serializer version (vsn 1.0.0 and 2.0.0).
#
#   CONCIERGE_SERVER_BIN  server binary (default: the shared debug build); this script builds nothing
#   CONFORMANCE_VSNS      versions to run (default "1.0.0 2.0.0")
#   CONFORMANCE_KEEP_LOG  set to keep the server log after a successful run
#
# Exit status: 0 only if every run passed. Needs `npm ci` done in this directory (it runs it when
# node_modules is missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${CONCIERGE_SERVER_BIN:-/root/.cache/concierge/target/debug/concierge-server}"
vsns="${CONFORMANCE_VSNS:-1.0.0 2.0.0}"

if [[ ! -x "$bin" ]]; then
  echo "conformance: server binary not found at $bin (build it: cargo build -p concierge-server)" >&2
  exit 2
fi
if [[ ! -d "$here/node_modules/@supabase/supabase-js" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d -t concierge-conformance.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${failed:-1}" == 0 && -z "${CONFORMANCE_KEEP_LOG:-}" ]]; then
    rm -rf "$work"
  else
    echo "conformance: server log kept in $work/server.log" >&2
  fi
}
trap cleanup EXIT INT TERM

# A free loopback port: ask the kernel for one, then hand it to the server.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

keys="$("$bin" keys)"
anon_key="$(node -e 'const k=JSON.parse(process.argv[1]);if(!k.anon_key)process.exit(1);console.log(k.anon_key)' "$keys")"
service_key="$(node -e 'const k=JSON.parse(process.argv[1]);if(!k.service_role_key)process.exit(1);console.log(k.service_role_key)' "$keys")"

# A 1 s refresh-token reuse interval (default 10 s) lets auth.test.mjs prove both sides of it.
"$bin" --addr "127.0.0.1:$port" --db "$work/conformance.db" --seed-demo --refresh-token-reuse-interval-secs 1 >"$work/server.log" 2>&1 &
server_pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "conformance: server exited during start-up:" >&2
    cat "$work/server.log" >&2
    exit 2
  fi
  if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

failed=0
total_pass=0
total_fail=0
for vsn in $vsns; do
  echo "=== conformance: vsn $vsn against $url ==="
  out="$work/tap-$vsn.txt"
  set +e
  (cd "$here" && CONFORMANCE_URL="$url" CONFORMANCE_ANON_KEY="$anon_key" CONFORMANCE_SERVICE_KEY="$service_key" \
    CONFORMANCE_VSN="$vsn" node --test --test-reporter=tap --test-concurrency=1 --test-timeout=60000 --test-force-exit \
    realtime.test.js rest.test.js raw.test.js auth.test.mjs broadcast.test.js rpc.test.js) | tee "$out"
  status=${PIPESTATUS[0]}
  set -e
  pass="$(awk '/^# pass /{print $3}' "$out" | tail -1)"
  fail="$(awk '/^# fail /{print $3}' "$out" | tail -1)"
  total_pass=$((total_pass + ${pass:-0}))
  total_fail=$((total_fail + ${fail:-0}))
  echo "=== conformance vsn $vsn: pass ${pass:-?} fail ${fail:-?} (exit $status) ==="
  if [[ $status -ne 0 ]]; then failed=1; fi
done

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "conformance: the server died during the run" >&2
  failed=1
fi
echo "conformance: ${total_pass} passed, ${total_fail} failed"
exit "$failed"
