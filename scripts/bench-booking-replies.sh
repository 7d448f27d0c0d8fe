# Sourced by scripts/bench: the "## Reservations" (issue 17) and "## Concierge replies"
# (issue 16) sections. Each starts its own release server on a fresh database in $work (with the
# flags below, which the section states), runs concierge-bench --booking / --replies against it
# and writes its section. Expects from scripts/bench: SERVER_BIN, BENCH_BIN, work, cpu,
# server_pid (cleaned up on exit), log, die, replace_section, commit_note.

# The limits the load needs lifted (each kiosk user is one anonymous sign-up from this one
# address; every caller books from it too): the defaults are abuse limits for a real lobby.
rc_signup_flags=(--anonymous-sign-ups-per-hour 1000000 --anonymous-sign-up-burst 100000)
rc_booking_flags=(--reserves-per-user-per-minute 0 --reserves-per-ip-per-minute 0)
# The concierge's defaults (server/src/concierge/args.rs), stated in the section.
rc_reply_delay_ms="${BENCH_REPLY_DELAY_MS:-4000}"
rc_reply_workers="${BENCH_REPLY_WORKERS:-4}"

rc_server() { # rc_server NAME FLAGS…: a quiet server on $work/NAME.db; sets server_pid, rc_port
  local name="$1"
  shift
  rc_port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null || echo 18767)"
  RUST_LOG="${RUST_LOG:-warn}" "$SERVER_BIN" --addr "127.0.0.1:$rc_port" --db "$work/$name.db" --seed-demo \
    "$@" >"$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$rc_port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.log" >&2; die "the server exited during start-up"; }
    sleep 0.1
  done
  die "the server did not start"
}

rc_stop() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

rc_keys() { # sets rc_anon, rc_service
  local keys
  keys="$("$SERVER_BIN" keys --addr "127.0.0.1:$rc_port" --db "$work/$1.db")"
  rc_anon="$(printf '%s' "$keys" | sed -n 's/.*"anon_key" *: *"\([^"]*\)".*/\1/p')"
  rc_service="$(printf '%s' "$keys" | sed -n 's/.*"service_role_key" *: *"\([^"]*\)".*/\1/p')"
  [ -n "$rc_anon" ] && [ -n "$rc_service" ] || die "could not read keys from: $keys"
}

load_now() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a; }

# booking_bench SECS [FLAG]: contention rounds for SECS, then the uncontended phase for SECS.
booking_bench() {
  local secs="$1" how="${2:-}" before after
  rc_server booking "${rc_signup_flags[@]}" "${rc_booking_flags[@]}"
  rc_keys booking
  before="$(load_now)"
  log "booking benchmark: ${secs} s of contention rounds, then ${secs} s uncontended (server pid $server_pid)"
  timeout $((secs * 2 + 600)) "$BENCH_BIN" --url "http://127.0.0.1:$rc_port" --anon-key "$rc_anon" \
    --service-key "$rc_service" --server-pid "$server_pid" --booking "$secs" --markdown "$work/booking.md" \
    || { tail -20 "$work/booking.log" >&2; die "concierge-bench --booking failed"; }
  after="$(load_now)"
  rc_stop
  echo "load average (1/5/15 min) before: $before, after: $after"
  [ -n "${BENCH_NO_WRITE:-}" ] && return 0
  {
    echo "## Reservations"
    echo
    echo "Measured by \`scripts/bench${how}\` on $(date -u +%Y-%m-%d) at commit $(commit_note server crates bench):"
    echo "\`concierge-bench --booking $secs\`, release builds of server and load client on this **shared** $(nproc)-core"
    echo "machine ($cpu) over loopback; load average (1/5/15 min) $before before and $after after: other sessions'"
    echo "builds and tests were running, so read single figures as noisy. Every caller is a kiosk user (an"
    echo "anonymous sign-in, as the app's kiosk makes one) calling \`POST /rest/v1/rpc/reserve\` with its own token; the"
    echo "watchers are kiosk sockets joined as those users to the hotel's \`events\` (every change, \`hotel_id=eq.…\`, as"
    echo "the kiosk page subscribes). **For this run the server's abuse limits were lifted** (all callers share one"
    echo "address): \`${rc_booking_flags[*]} ${rc_signup_flags[*]}\` (defaults: 10 bookings per user and"
    echo "120 per address a minute, 60 anonymous sign-ups at once per address)."
    echo "Contention rounds repeat for $secs s, each on a fresh event (one unreported round first opens the callers'"
    echo "HTTP connections), then the uncontended phase books for $secs s. **commit_timestamp→watcher** is the"
    echo "booking's \`commit_timestamp\` (set in the booking's transaction, ms resolution, wall clock) to the UPDATE's"
    echo "arrival at each watcher; the last-watcher column takes the latest of all watchers per UPDATE."
    echo
    cat "$work/booking.md"
  } >"$work/booking-section.md"
  replace_section "Reservations" "$work/booking-section.md"
}

# replies_bench SECS [FLAG]: conversations asking the concierge for SECS.
replies_bench() {
  local secs="$1" how="${2:-}" before after
  rc_server replies "${rc_signup_flags[@]}" \
    --concierge-reply-delay-ms "$rc_reply_delay_ms" --concierge-workers "$rc_reply_workers"
  rc_keys replies
  before="$(load_now)"
  log "reply benchmark: ${secs} s, delay ${rc_reply_delay_ms} ms, ${rc_reply_workers} workers (server pid $server_pid)"
  timeout $((secs + 600)) "$BENCH_BIN" --url "http://127.0.0.1:$rc_port" --anon-key "$rc_anon" \
    --service-key "$rc_service" --server-pid "$server_pid" --replies "$secs" \
    --reply-delay-ms "$rc_reply_delay_ms" --reply-workers "$rc_reply_workers" --markdown "$work/replies.md" \
    || { tail -20 "$work/replies.log" >&2; die "concierge-bench --replies failed"; }
  after="$(load_now)"
  rc_stop
  echo "load average (1/5/15 min) before: $before, after: $after"
  [ -n "${BENCH_NO_WRITE:-}" ] && return 0
  {
    echo "## Concierge replies"
    echo
    echo "Measured by \`scripts/bench${how}\` on $(date -u +%Y-%m-%d) at commit $(commit_note server crates bench):"
    echo "\`concierge-bench --replies $secs\`, release builds of server and load client on this **shared** $(nproc)-core"
    echo "machine ($cpu) over loopback; load average (1/5/15 min) $before before and $after after: other sessions'"
    echo "builds and tests were running, so read single figures as noisy. Each conversation is a kiosk guest: an"
    echo "anonymous sign-in that claimed a kiosk session (as \"Ask the concierge\" does), subscribed as that user to"
    echo "its session's \`messages\` INSERTs, asking a question (\`POST /rest/v1/messages\`), waiting for the concierge's"
    echo "reply to arrive over realtime, pausing up to 2 s and asking again; no staff present, so every question"
    echo "waits the whole delay. The server ran with \`--concierge-reply-delay-ms $rc_reply_delay_ms --concierge-workers"
    echo "$rc_reply_workers\` (the defaults) and, for the load from one address, \`${rc_signup_flags[*]}\`."
    echo "**send→reply** is from just before the question's HTTP request to the reply's arrival over realtime (one"
    echo "process, µs clock), so it includes the configured wait for staff; the next column subtracts it. The queue"
    echo "is read every 250 ms (\`GET /api/concierge/queue?older_than_ms=$rc_reply_delay_ms\`, service role): its depth"
    echo "counts every question waiting, most of them still inside the wait for staff (by design); \"past the delay\""
    echo "counts those due that no worker has answered yet, the backlog. The concierge looks for due questions every"
    echo "delay / 8, between 25 and 250 ms (250 ms at the default delay), so most of the time after the delay is"
    echo "that polling period, not the composing of the reply."
    echo
    cat "$work/replies.md"
  } >"$work/replies-section.md"
  replace_section "Concierge replies" "$work/replies-section.md"
}
