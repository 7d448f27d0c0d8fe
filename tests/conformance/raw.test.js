// Wire-level Phoenix protocol with a plain `ws` client, in this run's serializer version.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  VSN, WS_URL, ANON_KEY, SERVICE_KEY, GRACE_MS, COMMIT_TS, RawSocket, service, uuid, sleep, insertEvent, upgradeStatus, kiosk,
} from './lib/env.js';

const db = service();
const sockets = [];
async function open(opts) {
  const s = await RawSocket.open(opts);
  sockets.push(s);
  return s;
}
after(() => sockets.forEach((s) => s.close()));

const V2 = VSN === '2.0.0';
const EVENTS_ALL = { event: '*', schema: 'public', table: 'events' };

/** Checks the serializer-specific envelope of a server frame. */
function assertEnvelope(m, { joinRef, ref }) {
  if (V2) {
    assert.equal(m.parsed.length, 5);
    assert.equal(m.join_ref, joinRef, `join_ref in ${m.raw}`);
  } else {
    assert.ok(!('join_ref' in m.parsed), `V1 server frame has no join_ref key: ${m.raw}`);
    assert.deepEqual(Object.keys(m.parsed).sort(), ['event', 'payload', 'ref', 'topic']);
  }
  assert.equal(m.ref, ref, `ref in ${m.raw}`);
}

/** The primary key of the row a postgres_changes frame is about. */
const rowId = (m) => m.payload?.data?.record?.id ?? m.payload?.data?.old_record?.id;

async function joinOk(s, name, bindings, accessToken) {
  const j = await s.join(name, bindings, { accessToken });
  assert.equal(j.reply.payload.status, 'ok', `join reply: ${j.reply.raw}`);
  const sys = await s.next((m) => m.topic === j.topic && m.event === 'system', 'system message');
  assert.equal(sys.payload.status, 'ok', `system: ${sys.raw}`);
  return { ...j, sys };
}

test('heartbeat on topic phoenix gets an ok reply', async () => {
  const s = await open();
  const ref = s.push('phoenix', 'heartbeat', {});
  const r = await s.next((m) => m.topic === 'phoenix' && m.ref === ref, 'heartbeat reply');
  assert.equal(r.event, 'phx_reply');
  assert.deepEqual(r.payload, { status: 'ok', response: {} });
  assertEnvelope(r, { joinRef: null, ref });
});

test('join reply echoes postgres_changes in order with integer ids; then "Subscribed to PostgreSQL"', async () => {
  const s = await open();
  const session = uuid();
  const bindings = [
    { event: '*', schema: 'public', table: 'events' },
    { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter: `session_id=eq.${session}` },
  ];
  const name = `raw-join-${uuid()}`;
  // The kiosk_results binding is a kiosk's: its own user's token, for the session it claimed.
  const { token } = await kiosk(session);
  const { topic, joinRef, reply, sys } = await joinOk(s, name, bindings, token);
  assertEnvelope(reply, { joinRef, ref: joinRef });
  assert.equal(reply.topic, topic);
  const pc = reply.payload.response.postgres_changes;
  assert.equal(pc.length, 2);
  pc.forEach((entry, i) => {
    assert.ok(Number.isInteger(entry.id), `integer id: ${JSON.stringify(entry)}`);
    const { id, ...echo } = entry;
    assert.deepEqual(echo, bindings[i], 'entry echoes the request verbatim, in order');
  });
  assert.notEqual(pc[0].id, pc[1].id, 'different params, different ids');

  assertEnvelope(sys, { joinRef, ref: null });
  assert.deepEqual(sys.payload, {
    extension: 'postgres_changes',
    status: 'ok',
    message: 'Subscribed to PostgreSQL',
    channel: name,
  });

  // Identical params give the identical id, on another channel and another socket.
  const s2 = await open();
  const again = await s2.join(`raw-join-again-${uuid()}`, [bindings[1]], { accessToken: token });
  assert.equal(again.reply.payload.response.postgres_changes[0].id, pc[1].id);
});

test('join with no postgres_changes replies an empty list', async () => {
  const s = await open();
  const j = await s.join(`raw-empty-${uuid()}`, []);
  assert.equal(j.reply.payload.status, 'ok');
  assert.deepEqual(j.reply.payload.response, { postgres_changes: [] });
});

test('postgres_changes frames: ids, data keys per type, envelope', async () => {
  const s = await open();
  const bindings = [
    { event: 'INSERT', schema: 'public', table: 'events' },
    { event: 'UPDATE', schema: 'public', table: 'events' },
    { event: 'DELETE', schema: 'public', table: 'events' },
  ];
  const { topic, reply } = await joinOk(s, `raw-pc-${uuid()}`, bindings);
  const [insId, updId, delId] = reply.payload.response.postgres_changes.map((e) => e.id);
  const row = await insertEvent(db);
  const mine = (m) => m.topic === topic && m.event === 'postgres_changes' && rowId(m) === row.id;
  const ins = await s.next(mine, 'INSERT frame');
  assertEnvelope(ins, { joinRef: null, ref: null });
  assert.deepEqual(ins.payload.ids, [insId], 'only the INSERT binding matched');
  const d = ins.payload.data;
  assert.deepEqual(Object.keys(d).sort(), ['columns', 'commit_timestamp', 'errors', 'record', 'schema', 'table', 'type']);
  assert.equal(d.type, 'INSERT');
  assert.equal(d.schema, 'public');
  assert.equal(d.table, 'events');
  assert.match(d.commit_timestamp, COMMIT_TS);
  assert.equal(d.record.id, row.id);
  assert.ok(d.errors === null || (Array.isArray(d.errors) && d.errors.length === 0));
  assert.ok(Array.isArray(d.columns) && d.columns.length >= 10);
  for (const c of d.columns) assert.ok(typeof c.name === 'string' && typeof c.type === 'string', JSON.stringify(c));
  const colNames = d.columns.map((c) => c.name);
  for (const k of Object.keys(d.record)) assert.ok(colNames.includes(k), `column ${k} described`);
  const typeOf = Object.fromEntries(d.columns.map((c) => [c.name, c.type]));
  assert.equal(typeOf.id, 'uuid');
  assert.equal(typeOf.is_hotel_service, 'bool');
  assert.equal(typeOf.title, 'text');

  await db.from('events').update({ title: 'raw update' }).eq('id', row.id);
  const upd = await s.next(mine, 'UPDATE frame');
  assert.deepEqual(upd.payload.ids, [updId]);
  assert.equal(upd.payload.data.type, 'UPDATE');
  assert.ok('record' in upd.payload.data && 'old_record' in upd.payload.data);
  assert.equal(upd.payload.data.record.title, 'raw update');
  assert.equal(upd.payload.data.old_record.id, row.id);

  await db.from('events').delete().eq('id', row.id);
  const del = await s.next(mine, 'DELETE frame');
  assert.deepEqual(del.payload.ids, [delId]);
  assert.equal(del.payload.data.type, 'DELETE');
  assert.ok(!('record' in del.payload.data), 'DELETE has no record key');
  assert.equal(del.payload.data.old_record.id, row.id);
});

test('an INSERT-only binding does not receive UPDATE (barrier: next INSERT)', async () => {
  const s = await open();
  const { topic } = await joinOk(s, `raw-ins-${uuid()}`, [{ event: 'INSERT', schema: 'public', table: 'events' }]);
  const a = await insertEvent(db);
  await db.from('events').update({ title: 'not for you' }).eq('id', a.id);
  const b = await insertEvent(db);
  // Only this test's rows (other suites write to events too); commit order does the rest.
  const mine = (m) => m.topic === topic && m.event === 'postgres_changes' && [a.id, b.id].includes(rowId(m));
  const first = await s.next(mine, 'first INSERT');
  const second = await s.next(mine, 'second INSERT');
  assert.equal(first.payload.data.record.id, a.id);
  assert.equal(second.payload.data.type, 'INSERT', `got ${second.payload.data.type} instead of the next INSERT`);
  assert.equal(second.payload.data.record.id, b.id);
  await sleep(GRACE_MS);
  assert.ok(s.all(mine).every((m) => m.payload.data.type === 'INSERT'));
});

test('pushing to an unjoined topic gets "unmatched topic"', async () => {
  const s = await open();
  const topic = `realtime:never-joined-${uuid()}`;
  const ref = s.push(topic, 'access_token', { access_token: ANON_KEY }, { joinRef: '99' });
  const r = await s.next((m) => m.ref === ref, 'unmatched topic reply');
  assert.equal(r.event, 'phx_reply');
  assert.equal(r.topic, topic);
  assert.deepEqual(r.payload, { status: 'error', response: { reason: 'unmatched topic' } });
});

test('phx_leave: ok reply, then phx_close; the topic is then unmatched', async () => {
  const s = await open();
  const { topic, joinRef } = await joinOk(s, `raw-leave-${uuid()}`, [EVENTS_ALL]);
  const ref = s.push(topic, 'phx_leave', {}, { joinRef });
  const reply = await s.next((m) => m.topic === topic && (m.event === 'phx_reply' || m.event === 'phx_close'), 'leave reply');
  assert.equal(reply.event, 'phx_reply', 'the reply comes before phx_close');
  assert.equal(reply.ref, ref);
  assert.equal(reply.payload.status, 'ok');
  const close = await s.next((m) => m.topic === topic && m.event === 'phx_close', 'phx_close');
  assert.deepEqual(close.payload, {});
  assertEnvelope(close, { joinRef, ref: joinRef });
  // No more changes for a left channel.
  await insertEvent(db);
  const probe = s.push('phoenix', 'heartbeat', {});
  await s.next((m) => m.ref === probe && m.topic === 'phoenix', 'heartbeat after leave');
  await sleep(GRACE_MS);
  assert.equal(s.all((m) => m.topic === topic && m.event === 'postgres_changes').length, 0);
  const again = s.push(topic, 'access_token', { access_token: ANON_KEY }, { joinRef });
  const r = await s.next((m) => m.ref === again, 'reply after leave');
  assert.equal(r.payload.response.reason, 'unmatched topic');
});

test('unknown table / bad filter: a clear error, never a silent subscription', async () => {
  for (const [what, binding] of [
    ['unknown table', { event: '*', schema: 'public', table: 'no_such_table' }],
    ['bad filter syntax', { event: '*', schema: 'public', table: 'events', filter: 'category' }],
    ['unsupported operator', { event: '*', schema: 'public', table: 'events', filter: 'category=like.x' }],
    ['unknown filter column', { event: '*', schema: 'public', table: 'events', filter: 'nope=eq.1' }],
    ['in with 101 values', { event: '*', schema: 'public', table: 'events', filter: `category=in.(${Array.from({ length: 101 }, (_, i) => i).join(',')})` }],
    ['anon on all kiosk_results', { event: '*', schema: 'public', table: 'kiosk_results' }],
  ]) {
    const s = await open();
    const j = await s.join(`raw-bad-${uuid()}`, [binding]);
    if (j.reply.payload.status === 'error') {
      assert.equal(typeof j.reply.payload.response.reason, 'string', `${what}: reason`);
      continue;
    }
    assert.equal(j.reply.payload.status, 'ok', `${what}: ${j.reply.raw}`);
    const sys = await s.next((m) => m.topic === j.topic && m.event === 'system', `${what}: system message`);
    assert.equal(sys.payload.status, 'error', `${what}: ${sys.raw}`);
    assert.ok(sys.payload.message.length > 0);
    assert.notEqual(sys.payload.message, 'Subscribed to PostgreSQL');
  }
});

test('invalid access_token push: system error then phx_close', async () => {
  const s = await open();
  const { topic, joinRef } = await joinOk(s, `raw-token-${uuid()}`, [EVENTS_ALL]);
  // A valid token is accepted silently (no reply, channel keeps working).
  s.push(topic, 'access_token', { access_token: SERVICE_KEY }, { joinRef });
  s.push(topic, 'access_token', { access_token: 'garbage.not.ajwt' }, { joinRef });
  const sys = await s.next((m) => m.topic === topic && m.event === 'system', 'system error');
  assert.equal(sys.payload.status, 'error', sys.raw);
  const close = await s.next((m) => m.topic === topic && m.event === 'phx_close', 'phx_close');
  assert.ok(close);
});

test('malformed frames do not kill the socket or the server', async () => {
  const s = await open();
  s.ws.send('this is not json');
  s.ws.send(V2 ? '[1,2,3]' : '{"topic": 5}');
  s.ws.send(V2 ? '["1","2","realtime:x","phx_join","not an object"]' : '{"topic":"realtime:x","event":"phx_join","payload":"nope","ref":"2"}');
  await sleep(100);
  if (!s.closed) {
    const ref = s.push('phoenix', 'heartbeat', {});
    await s.next((m) => m.ref === ref && m.topic === 'phoenix', 'heartbeat after garbage');
  }
  const other = await open();
  const ref = other.push('phoenix', 'heartbeat', {});
  await other.next((m) => m.ref === ref, 'other socket unaffected');
});

test('upgrade: missing or invalid apikey is 401; x-api-key header works; no vsn means 1.0.0', async () => {
  const missing = await upgradeStatus(`${WS_URL}?vsn=${VSN}`);
  assert.equal(missing.status, 401);
  const invalid = await upgradeStatus(`${WS_URL}?vsn=${VSN}&apikey=not-a-jwt`);
  assert.equal(invalid.status, 401);
  const forged = await upgradeStatus(`${WS_URL}?vsn=${VSN}&apikey=${ANON_KEY.slice(0, -4)}AAAA`);
  assert.equal(forged.status, 401, 'a token with a bad signature is refused');
  const header = await upgradeStatus(`${WS_URL}?vsn=${VSN}`, { 'x-api-key': ANON_KEY });
  assert.equal(header.status, 101);

  const s = await open({ vsn: null });
  const ref = s.push('phoenix', 'heartbeat', {});
  const r = await s.next((m) => m.ref === ref, 'V1 heartbeat reply');
  assert.ok(!Array.isArray(r.parsed), 'no vsn → JSON object frames');
});
