// Broadcast and Presence (issue 16) through supabase-js's own API: channel().send() with
// `self`/`ack`, track()/untrack(), presenceState(), on('presence', sync|join|leave), private
// session channels (allowed and denied), and the REST broadcast endpoint. Needs --seed-demo (a
// demo staff account).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { URL_BASE, ANON_KEY, SERVICE_KEY, VSN, WAIT_MS, GRACE_MS, anon, service, uuid, waitUntil, sleep, subscribe } from './lib/env.js';

const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff' };

const clients = [];
function keep(c) {
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) {
    await c.removeAllChannels().catch(() => {});
    c.realtime.disconnect();
  }
});

/** Subscribes a Broadcast / Presence channel (no postgres_changes, so no system message). */
async function joined(channel) {
  const res = await subscribe(channel, { waitForPostgres: false });
  assert.equal(res.status, 'SUBSCRIBED', `${channel.topic}: ${res.status} ${res.err ?? ''}`);
  return channel;
}

function userClient() {
  return keep(createClient(URL_BASE, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket, vsn: VSN, timeout: WAIT_MS },
  }));
}

test('broadcast: send() reaches the other members; self and ack options', async () => {
  const room = `bc-${uuid()}`;
  const got = [];
  const own = [];
  const listener = keep(anon());
  await joined(listener.channel(room).on('broadcast', { event: 'ping' }, (m) => got.push(m)));

  const sender = keep(anon());
  const ch = await joined(sender.channel(room, { config: { broadcast: { self: true, ack: true } } })
    .on('broadcast', { event: 'ping' }, (m) => own.push(m)));
  assert.equal(await ch.send({ type: 'broadcast', event: 'ping', payload: { n: 1, text: 'héllo' } }), 'ok', 'acked by the server');
  const m = await waitUntil(() => got.find((x) => x.payload.n === 1), 'broadcast at the listener');
  assert.deepEqual(m, { type: 'broadcast', event: 'ping', payload: { n: 1, text: 'héllo' } });
  await waitUntil(() => own.find((x) => x.payload.n === 1), 'own broadcast with self: true');

  // Defaults: no ack (send resolves at once) and no echo to the sender.
  const quiet = [];
  const plain = keep(anon());
  const pch = await joined(plain.channel(room).on('broadcast', { event: 'ping' }, (x) => quiet.push(x)));
  assert.equal(await pch.send({ type: 'broadcast', event: 'ping', payload: { n: 2 } }), 'ok');
  await waitUntil(() => got.find((x) => x.payload.n === 2), 'second broadcast at the listener');
  await sleep(GRACE_MS);
  assert.equal(quiet.length, 0, 'self is off by default');
  assert.ok(!got.some((x) => x.event !== 'ping'), 'only the bound event');
});

test('presence: track(), presenceState(), sync / join / leave events, untrack()', async () => {
  const room = `pr-${uuid()}`;
  const watcher = keep(anon());
  const events = [];
  const wch = watcher.channel(room, { config: { presence: { key: 'watcher' } } })
    .on('presence', { event: 'sync' }, () => events.push({ event: 'sync' }))
    .on('presence', { event: 'join' }, (p) => events.push(p))
    .on('presence', { event: 'leave' }, (p) => events.push(p));
  await joined(wch);
  await waitUntil(() => events.some((e) => e.event === 'sync'), 'initial sync from presence_state');

  const anna = keep(anon());
  const ach = await joined(anna.channel(room, { config: { presence: { key: 'anna' } } }));
  assert.equal(await ach.track({ name: 'Anna', online_at: 1 }), 'ok');
  const join = await waitUntil(() => events.find((e) => e.event === 'join' && e.key === 'anna'), 'join event');
  assert.equal(join.newPresences.length, 1);
  assert.equal(join.newPresences[0].name, 'Anna');
  assert.equal(typeof join.newPresences[0].presence_ref, 'string', 'phx_ref becomes presence_ref');
  const state = await waitUntil(() => wch.presenceState().anna, 'anna in presenceState()');
  assert.deepEqual(Object.keys(wch.presenceState()).sort(), ['anna']);
  assert.equal(state[0].name, 'Anna');
  assert.ok(!('phx_ref' in state[0]));

  // Update: the state holds the new meta only.
  assert.equal(await ach.track({ name: 'Anna', online_at: 2 }), 'ok');
  await waitUntil(() => wch.presenceState().anna?.[0]?.online_at === 2, 'updated meta');
  assert.equal(wch.presenceState().anna.length, 1);

  assert.equal(await ach.untrack(), 'ok');
  // The update already left the first meta (Phoenix: a leave of the old, a join of the new).
  const leaves = () => events.filter((e) => e.event === 'leave' && e.key === 'anna');
  await waitUntil(() => leaves().length === 2, 'leave event after untrack');
  assert.deepEqual(leaves().map((e) => e.leftPresences[0].online_at), [1, 2]);
  await waitUntil(() => !wch.presenceState().anna, 'anna gone from presenceState()');

  // A socket that goes away leaves too.
  const ben = keep(anon());
  const bch = await joined(ben.channel(room, { config: { presence: { key: 'ben' } } }));
  assert.equal(await bch.track({ name: 'Ben' }), 'ok');
  await waitUntil(() => wch.presenceState().ben, 'ben tracked');
  ben.realtime.disconnect();
  await waitUntil(() => events.find((e) => e.event === 'leave' && e.key === 'ben'), 'leave when the socket closes');
  assert.equal(wch.presenceState().ben, undefined);
});

test('private channels: a session channel admits its customer and staff, not others', async () => {
  const customer = userClient();
  const email = `pc-${uuid().slice(0, 8)}@guest.test`;
  const up = await customer.auth.signUp({ email, password: 'correct-horse', options: { data: { name: 'Cat' } } });
  assert.equal(up.error, null);
  const staff = userClient();
  const si = await staff.auth.signInWithPassword(STAFF);
  assert.equal(si.error, null);
  const stranger = userClient();
  const st = await stranger.auth.signUp({ email: `x-${uuid().slice(0, 8)}@guest.test`, password: 'correct-horse' });
  assert.equal(st.error, null);

  const id = uuid();
  const ins = await keep(service()).from('sessions').insert({
    id, customer_id: up.data.user.id, staff_id: si.data.user.id, status: 'live', kind: 'chat',
  });
  assert.equal(ins.error, null, JSON.stringify(ins.error));
  const topic = `session:${id}`;
  const priv = { config: { private: true, presence: { key: 'x' } } };

  const heard = [];
  await joined(customer.channel(topic, priv).on('broadcast', { event: 'typing' }, (m) => heard.push(m)));
  const sch = await joined(staff.channel(topic, priv));

  const denied = stranger.channel(topic, priv);
  const res = await subscribe(denied, { waitForPostgres: false });
  assert.equal(res.status, 'CHANNEL_ERROR');
  assert.match(String(res.err?.message), new RegExp(`Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`));
  await stranger.removeChannel(denied);

  // The public channel of the same name is a different room.
  const leaked = [];
  await joined(keep(anon()).channel(topic).on('broadcast', { event: 'typing' }, (m) => leaked.push(m)));
  assert.equal(await sch.send({ type: 'broadcast', event: 'typing', payload: { who: 'Priya' } }), 'ok');
  await waitUntil(() => heard.length === 1, 'private broadcast at the customer');
  await sleep(GRACE_MS);
  assert.equal(leaked.length, 0);
});

test('REST broadcast: POST /realtime/v1/api/broadcast reaches subscribers (202)', async () => {
  const room = `rest-${uuid()}`;
  const got = [];
  await joined(keep(anon()).channel(room).on('broadcast', { event: 'news' }, (m) => got.push(m)));
  const res = await fetch(`${URL_BASE}/realtime/v1/api/broadcast`, {
    method: 'POST',
    headers: { apikey: SERVICE_KEY, Authorization: `Bearer ${SERVICE_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ topic: room, event: 'news', payload: { n: 1 } }] }),
  });
  assert.equal(res.status, 202);
  assert.equal(await res.text(), '');
  await waitUntil(() => got.find((m) => m.payload.n === 1), 'REST broadcast');

  // supabase-js's own REST path: send() on a channel that is not subscribed falls back to it.
  const warn = console.warn;
  console.warn = () => {};
  try {
    const c = keep(anon());
    assert.equal(await c.channel(room).send({ type: 'broadcast', event: 'news', payload: { n: 2 } }), 'ok');
  } finally {
    console.warn = warn;
  }
  await waitUntil(() => got.find((m) => m.payload.n === 2), 'send() REST fallback');
  assert.deepEqual(got.find((m) => m.payload.n === 2), { type: 'broadcast', event: 'news', payload: { n: 2 } });
});
