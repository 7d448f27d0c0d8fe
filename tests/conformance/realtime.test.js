// Realtime through the official supabase-js client (writes through its REST client).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  VSN, ANON_KEY, GRACE_MS, COMMIT_TS, client, anon, service, uuid, waitUntil, sleep, subscribe,
  insertEvent, insertResult, recordingTransport, subscribed, kiosk,
} from './lib/env.js';

const clients = [];
/** Tracks every client so sockets are closed even when a test fails. */
function track(c) {
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) {
    await c.removeAllChannels().catch(() => {});
    c.realtime.disconnect();
  }
});

/** Collects postgres_changes payloads for one binding. */
function collector() {
  const got = [];
  return { got, push: (p) => got.push(p) };
}

test(`supabase-js puts vsn=${VSN} on the wire and the server answers with that serializer`, async () => {
  const { Transport, log } = recordingTransport();
  const db = track(client(ANON_KEY, { transport: Transport }));
  const ch = db.channel(`vsn-${uuid()}`).on('postgres_changes', { event: '*', schema: 'public', table: 'events' }, () => {});
  await subscribed(ch);
  assert.equal(log.urls.length, 1, 'one socket');
  const url = new URL(log.urls[0]);
  assert.equal(url.pathname, '/realtime/v1/websocket');
  assert.deepEqual(url.searchParams.getAll('vsn'), [VSN], 'exactly one vsn parameter, the requested one');
  assert.equal(url.searchParams.get('apikey'), ANON_KEY);
  assert.ok(log.frames.length >= 2, 'join reply and system message received');
  for (const f of log.frames) {
    const v = JSON.parse(f);
    if (VSN === '2.0.0') assert.ok(Array.isArray(v) && v.length === 5, `V2 frame is a 5-array: ${f}`);
    else {
      assert.ok(!Array.isArray(v) && typeof v === 'object', `V1 frame is an object: ${f}`);
      assert.ok(!('join_ref' in v), `V1 server frames carry no join_ref key: ${f}`);
    }
  }
});

test('unfiltered subscription on events: INSERT, UPDATE and DELETE payloads', async () => {
  const reader = track(anon());
  const writer = track(service());
  const c = collector();
  const ch = reader.channel(`events-all-${uuid()}`).on('postgres_changes', { event: '*', schema: 'public', table: 'events' }, c.push);
  const { system } = await subscribed(ch);
  const ok = system.find((s) => s.extension === 'postgres_changes');
  assert.equal(ok.status, 'ok');
  assert.equal(ok.message, 'Subscribed to PostgreSQL');

  const row = await insertEvent(writer, { category: 'comedy', distance_km: 2.25, is_hotel_service: true });
  const ins = await waitUntil(() => c.got.find((p) => p.eventType === 'INSERT' && p.new.id === row.id), 'INSERT event');
  assert.equal(ins.schema, 'public');
  assert.equal(ins.table, 'events');
  assert.match(ins.commit_timestamp, COMMIT_TS);
  assert.ok(Math.abs(Date.parse(ins.commit_timestamp) - Date.now()) < 60_000, 'commit_timestamp is now-ish');
  assert.deepEqual(ins.old, {}, 'INSERT has no old record');
  assert.equal(ins.new.title, row.title);
  assert.equal(ins.new.category, 'comedy');
  assert.equal(ins.new.distance_km, 2.25, 'numeric column arrives as a number');
  assert.equal(ins.new.is_hotel_service, true, 'bool column arrives as a boolean');
  assert.ok(!ins.errors || ins.errors.length === 0, 'no errors');

  const { error: upErr } = await writer.from('events').update({ title: 'Renamed by conformance' }).eq('id', row.id);
  assert.equal(upErr, null);
  const upd = await waitUntil(() => c.got.find((p) => p.eventType === 'UPDATE' && p.new.id === row.id), 'UPDATE event');
  assert.equal(upd.new.title, 'Renamed by conformance');
  assert.equal(upd.old.id, row.id, 'UPDATE carries the old record (at least its primary key)');
  assert.match(upd.commit_timestamp, COMMIT_TS);
  assert.ok(Date.parse(upd.commit_timestamp) >= Date.parse(ins.commit_timestamp), 'commit order');
  if (upd.new.updated_at && row.updated_at) {
    assert.ok(Date.parse(upd.new.updated_at) >= Date.parse(row.updated_at), 'updated_at maintained');
  }

  const { error: delErr } = await writer.from('events').delete().eq('id', row.id);
  assert.equal(delErr, null);
  const del = await waitUntil(() => c.got.find((p) => p.eventType === 'DELETE' && p.old.id === row.id), 'DELETE event');
  assert.deepEqual(del.new, {}, 'DELETE has no new record');
  assert.equal(del.table, 'events');

  const mine = c.got.filter((p) => (p.new.id ?? p.old.id) === row.id).map((p) => p.eventType);
  assert.deepEqual(mine, ['INSERT', 'UPDATE', 'DELETE'], 'each change exactly once, in commit order');
});

test('filter isolation: a session_id=eq.A subscriber never sees session B', async () => {
  const [A, B] = [uuid(), uuid()];
  // Two kiosks, each signed in anonymously and owning its session.
  const readerA = track((await kiosk(A)).client);
  const readerB = track((await kiosk(B)).client);
  const writer = track(service());
  const a = collector();
  const b = collector();
  const filt = (s) => ({ event: 'INSERT', schema: 'public', table: 'kiosk_results', filter: `session_id=eq.${s}` });
  const chA = readerA.channel(`kiosk-${A}`).on('postgres_changes', filt(A), a.push);
  const chB = readerB.channel(`kiosk-${B}`).on('postgres_changes', filt(B), b.push);
  await Promise.all([subscribed(chA), subscribed(chB)]);

  const b1 = await insertResult(writer, B, { interests: 'b-first', categories: [], events: [] });
  const a1 = await insertResult(writer, A, { interests: 'a-first', categories: ['music'], events: [{ title: 'x' }] });
  const b2 = await insertResult(writer, B, { interests: 'b-second', categories: [], events: [] });

  // Commit order: A's first event must be a1 (b1 was committed before it and must not appear).
  await waitUntil(() => a.got.length >= 1, "A's event");
  assert.equal(a.got[0].new.id, a1.id);
  assert.equal(a.got[0].new.session_id, A);
  assert.deepEqual(a.got[0].new.results, { interests: 'a-first', categories: ['music'], events: [{ title: 'x' }] }, 'jsonb arrives as an object');
  await waitUntil(() => b.got.length >= 2, "B's two events");
  assert.deepEqual(b.got.map((p) => p.new.id), [b1.id, b2.id]);
  await sleep(GRACE_MS);
  assert.deepEqual(a.got.map((p) => p.new.session_id), [A], 'A saw only its own row');
  assert.ok(b.got.every((p) => p.new.session_id === B), 'B saw only its own rows');
});

test('event-type binding: an INSERT-only binding does not receive UPDATE or DELETE', async () => {
  const reader = track(anon());
  const writer = track(service());
  const ins = collector();
  const ch = reader.channel(`ins-only-${uuid()}`).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'events' }, ins.push);
  await subscribed(ch);
  const first = await insertEvent(writer);
  await waitUntil(() => ins.got.some((p) => p.new.id === first.id), 'first INSERT');
  assert.equal((await writer.from('events').update({ title: 'changed' }).eq('id', first.id)).error, null);
  assert.equal((await writer.from('events').delete().eq('id', first.id)).error, null);
  // Barrier: a later INSERT arrives after the UPDATE/DELETE would have.
  const second = await insertEvent(writer);
  await waitUntil(() => ins.got.some((p) => p.new.id === second.id), 'second INSERT');
  await sleep(GRACE_MS);
  assert.ok(ins.got.every((p) => p.eventType === 'INSERT'), `only INSERTs: ${ins.got.map((p) => p.eventType)}`);
});

test('column filter on events: category=eq.comedy skips other categories', async () => {
  const reader = track(anon());
  const writer = track(service());
  const c = collector();
  const ch = reader
    .channel(`comedy-${uuid()}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'events', filter: 'category=eq.comedy' }, c.push);
  await subscribed(ch);
  const music = await insertEvent(writer, { category: 'music' });
  const comedy = await insertEvent(writer, { category: 'comedy' });
  await waitUntil(() => c.got.some((p) => p.new.id === comedy.id), 'comedy INSERT');
  await sleep(GRACE_MS);
  assert.ok(!c.got.some((p) => p.new.id === music.id), 'music row filtered out');
  assert.ok(c.got.every((p) => p.new.category === 'comedy'));
});

test('in filter (service role): session_id=in.(A,B) receives A and B but not C', async () => {
  const [A, B, C] = [uuid(), uuid(), uuid()];
  const reader = track(service());
  const got = collector();
  const ch = reader
    .channel(`in-${uuid()}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter: `session_id=in.(${A},${B})` }, got.push);
  await subscribed(ch);
  await insertResult(reader, C);
  await insertResult(reader, A);
  await insertResult(reader, B);
  await waitUntil(() => got.got.length >= 2, 'two events');
  await sleep(GRACE_MS);
  assert.deepEqual(got.got.map((p) => p.new.session_id), [A, B]);
});

test('service role may subscribe to kiosk_results without a filter', async () => {
  const reader = track(service());
  const got = collector();
  const ch = reader.channel(`svc-all-${uuid()}`).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'kiosk_results' }, got.push);
  const { system } = await subscribed(ch);
  assert.equal(system.find((s) => s.extension === 'postgres_changes').status, 'ok');
  const [A, B] = [uuid(), uuid()];
  await insertResult(reader, A);
  await insertResult(reader, B);
  await waitUntil(() => got.got.some((p) => p.new.session_id === B), 'second session');
  assert.ok(got.got.some((p) => p.new.session_id === A));
});

/** Decodes a recorded server frame of this run's serializer into {topic, event, payload}. */
function decodeFrame(raw) {
  const v = JSON.parse(raw);
  if (Array.isArray(v)) return { topic: v[2], event: v[3], payload: v[4] };
  return { topic: v.topic, event: v.event, payload: v.payload };
}

/**
 * The ways a server may refuse a subscription: a join `error` reply (supabase-js reports
 * CHANNEL_ERROR) or an ok reply followed by a `system` error. Either must be visible on the wire
 * for this channel's topic: a CHANNEL_ERROR caused by a dead socket does not count.
 */
async function expectRefused(ch, log, what) {
  const res = await subscribe(ch, { waitForPostgres: false });
  const frames = () => log.frames.map(decodeFrame).filter((f) => f.topic === ch.topic);
  if (res.status === 'CHANNEL_ERROR') {
    const reply = frames().find((f) => f.event === 'phx_reply');
    assert.ok(reply, `${what}: CHANNEL_ERROR without a join reply from the server (socket failure?): ${res.err}`);
    assert.equal(reply.payload.status, 'error', `${what}: ${JSON.stringify(reply)}`);
    assert.equal(typeof reply.payload.response?.reason, 'string', `${what}: error reply has a reason`);
    return res;
  }
  assert.equal(res.status, 'SUBSCRIBED', `${what}: unexpected status ${res.status} ${res.err ?? ''}`);
  const sys = await waitUntil(() => frames().find((f) => f.event === 'system'), `${what}: system message`);
  assert.equal(sys.payload.status, 'error', `${what}: system message must be an error, got ${JSON.stringify(sys.payload)}`);
  assert.ok(typeof sys.payload.message === 'string' && sys.payload.message.length > 0, `${what}: error has a message`);
  assert.notEqual(sys.payload.message, 'Subscribed to PostgreSQL');
  return res;
}

/** An anon client whose frames are recorded (for expectRefused). */
function recordedAnon() {
  const { Transport, log } = recordingTransport();
  return { db: track(client(ANON_KEY, { transport: Transport })), log };
}

test('unknown table is refused (CHANNEL_ERROR or system error)', async () => {
  const { db, log } = recordedAnon();
  const ch = db.channel(`nope-${uuid()}`).on('postgres_changes', { event: '*', schema: 'public', table: 'no_such_table' }, () => {});
  await expectRefused(ch, log, 'unknown table');
});

test('bad filter syntax is refused (CHANNEL_ERROR or system error)', async () => {
  const { db, log } = recordedAnon();
  const ch = db
    .channel(`badfilter-${uuid()}`)
    .on('postgres_changes', { event: '*', schema: 'public', table: 'events', filter: 'category=like.%jazz%' }, () => {});
  await expectRefused(ch, log, 'unsupported operator');
  const ch2 = db
    .channel(`badfilter2-${uuid()}`)
    .on('postgres_changes', { event: '*', schema: 'public', table: 'events', filter: 'no_such_column=eq.1' }, () => {});
  await expectRefused(ch2, log, 'unknown column');
});

test('anon may not subscribe to all kiosk_results, and receives no other session', async () => {
  const { db, log } = recordedAnon();
  const writer = track(service());
  const got = collector();
  const ch = db.channel(`anon-all-${uuid()}`).on('postgres_changes', { event: '*', schema: 'public', table: 'kiosk_results' }, got.push);
  await expectRefused(ch, log, 'anon unfiltered kiosk_results');
  await insertResult(writer, uuid());
  await sleep(GRACE_MS * 2);
  assert.equal(got.got.length, 0, 'nothing leaked');
  // An eq filter on another column than session_id is just as forbidden.
  const ch2 = db
    .channel(`anon-other-${uuid()}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter: `id=neq.${uuid()}` }, got.push);
  await expectRefused(ch2, log, 'anon kiosk_results with a non-session filter');
});

test('unsubscribe (phx_leave) gets ok and the channel ends closed', async () => {
  const db = track(anon());
  const ch = db.channel(`leave-${uuid()}`).on('postgres_changes', { event: '*', schema: 'public', table: 'events' }, () => {});
  await subscribed(ch);
  assert.equal(await ch.unsubscribe(), 'ok');
  assert.equal(ch.state, 'closed');
});
