// PostgREST subset through supabase-js's REST client (and raw fetch where the client hides the
// wire: headers, bad JSON, missing key).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { URL_BASE, ANON_KEY, SERVICE_KEY, HOTEL_ID, anon, service, uuid, insertEvent, insertResult, kiosk } from './lib/env.js';

const db = service();
const pub = anon();

/** A raw PostgREST call; returns {status, headers, body (parsed JSON or text or null)}. */
async function rest(method, pathAndQuery, { key = SERVICE_KEY, headers = {}, body } = {}) {
  const h = { apikey: key, Authorization: `Bearer ${key}`, ...headers };
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
  const res = await fetch(`${URL_BASE}/rest/v1/${pathAndQuery}`, { method, headers: h, body });
  const text = await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

function assertPgrstError(body, code) {
  assert.equal(typeof body, 'object', `error body is JSON: ${JSON.stringify(body)}`);
  for (const k of ['code', 'message', 'details', 'hint']) assert.ok(k in body, `error body has ${k}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.message, 'string');
  if (code) assert.equal(body.code, code, JSON.stringify(body));
}

// A few rows of our own, so the query tests do not depend on the demo seed (checked separately).
before(async () => {
  const rows = [
    ['comedy', 0.4, true], ['music', 2.5, false], ['music', 0.9, true],
    ['dining', 4.0, false], ['wellness', 1.2, false], ['comedy', 7.5, false],
  ];
  for (const [category, distance_km, is_hotel_service] of rows) await insertEvent(db, { category, distance_km, is_hotel_service });
});

const isSorted = (xs, cmp) => xs.every((x, i) => i === 0 || cmp(xs[i - 1], x) <= 0);

test('seeded catalogue: anon can list the demo hotel events', async () => {
  const { data, error, status } = await pub.from('events').select('*').eq('hotel_id', HOTEL_ID);
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.ok(data.length >= 30, `at least 30 seeded events, got ${data.length}`);
  const cats = new Set(data.map((e) => e.category));
  for (const c of ['comedy', 'music', 'dining', 'wellness', 'family', 'culture', 'nightlife']) assert.ok(cats.has(c), `category ${c} seeded`);
  assert.ok(data.some((e) => e.is_hotel_service === true), 'some hotel services');
  const e = data[0];
  for (const k of ['id', 'hotel_id', 'title', 'category', 'starts_at', 'distance_km', 'is_hotel_service', 'updated_at']) assert.ok(k in e, `column ${k}`);
  assert.equal(typeof e.distance_km, 'number');
  assert.equal(typeof e.is_hotel_service, 'boolean');
  const { data: hotels, error: hErr } = await pub.from('hotels').select('*').eq('id', HOTEL_ID);
  if (!hErr) assert.equal(hotels.length, 1);
});

test('select= column list returns exactly those columns', async () => {
  const { data, error } = await pub.from('events').select('id,title').limit(3);
  assert.equal(error, null);
  assert.equal(data.length, 3);
  for (const r of data) assert.deepEqual(Object.keys(r).sort(), ['id', 'title']);
});

test('filters: eq, neq, in, is.null, gt/lte, not, like/ilike', async () => {
  const { data: inRows, error } = await pub.from('events').select('id,category').in('category', ['comedy', 'music']);
  assert.equal(error, null);
  assert.ok(inRows.length > 0);
  assert.ok(inRows.every((r) => r.category === 'comedy' || r.category === 'music'));

  const { data: neq } = await pub.from('events').select('category').neq('category', 'music');
  assert.ok(neq.length > 0 && neq.every((r) => r.category !== 'music'));

  const nullRow = await insertEvent(db, { image_url: null, booking_url: 'https://example.test/book' });
  const { data: isNull, error: e2 } = await pub.from('events').select('id,image_url').is('image_url', null);
  assert.equal(e2, null);
  assert.ok(isNull.some((r) => r.id === nullRow.id));
  assert.ok(isNull.every((r) => r.image_url === null));
  const { data: notNull, error: e3 } = await pub.from('events').select('id,booking_url').not('booking_url', 'is', null);
  assert.equal(e3, null);
  assert.ok(notNull.length > 0 && notNull.every((r) => r.booking_url !== null));
  assert.ok(notNull.some((r) => r.id === nullRow.id), 'nullRow has a booking_url');
  const { data: notIn, error: e4 } = await pub.from('events').select('category').not('category', 'in', '(comedy,music)');
  assert.equal(e4, null);
  assert.ok(notIn.length > 0 && notIn.every((r) => r.category !== 'comedy' && r.category !== 'music'));

  // like is case-sensitive, ilike is not; supabase-js sends `%` (URL-encoded).
  const tag = `Zq${uuid().slice(0, 6)}`;
  const tagged = await insertEvent(db, { title: `Late-night ${tag} jazz` });
  const { data: ci, error: e5 } = await pub.from('events').select('id,title').ilike('title', `%${tag.toUpperCase()}%`);
  assert.equal(e5, null);
  assert.deepEqual(ci.map((r) => r.id), [tagged.id]);
  const { data: cs } = await pub.from('events').select('id').like('title', `%${tag.toUpperCase()}%`);
  assert.deepEqual(cs, [], 'like is case-sensitive');
  const { data: cs2 } = await pub.from('events').select('id').like('title', `Late-night ${tag}%`);
  assert.deepEqual(cs2.map((r) => r.id), [tagged.id]);

  // .or() logic trees, nested and(), and a value quoted to hold a comma.
  const { data: all } = await pub.from('events').select('id,category,distance_km');
  const { data: either, error: e6 } = await pub.from('events').select('id').or('category.eq.comedy,distance_km.lt.1');
  assert.equal(e6, null);
  assert.equal(either.length, all.filter((r) => r.category === 'comedy' || (r.distance_km !== null && r.distance_km < 1)).length);
  const { data: nested, error: e7 } = await pub.from('events').select('id')
    .or(`id.eq.${tagged.id},and(category.eq.dining,distance_km.gt.3),title.eq."a,b"`);
  assert.equal(e7, null);
  assert.equal(nested.length, 1 + all.filter((r) => r.category === 'dining' && r.distance_km > 3 && r.id !== tagged.id).length);

  const { data: range } = await pub.from('events').select('distance_km').gt('distance_km', 1).lte('distance_km', 5);
  assert.ok(range.every((r) => r.distance_km > 1 && r.distance_km <= 5));

  const { data: one } = await pub.from('events').select('id').eq('id', nullRow.id);
  assert.deepEqual(one, [{ id: nullRow.id }]);
});

test('order (several columns), limit and offset', async () => {
  const { data, error } = await pub
    .from('events')
    .select('id,is_hotel_service,distance_km')
    .eq('hotel_id', HOTEL_ID)
    .order('is_hotel_service', { ascending: false })
    .order('distance_km', { ascending: true });
  assert.equal(error, null);
  const cmp = (a, b) => (a.is_hotel_service === b.is_hotel_service ? a.distance_km - b.distance_km : a.is_hotel_service ? -1 : 1);
  assert.ok(isSorted(data, cmp), 'hotel services first, then by distance');

  const { data: desc } = await pub.from('events').select('distance_km').order('distance_km', { ascending: false }).limit(5);
  assert.equal(desc.length, 5);
  assert.ok(isSorted(desc, (a, b) => b.distance_km - a.distance_km));

  const { data: page } = await pub
    .from('events')
    .select('id')
    .eq('hotel_id', HOTEL_ID)
    .order('is_hotel_service', { ascending: false })
    .order('distance_km', { ascending: true })
    .order('id')
    .range(2, 4); // offset=2&limit=3
  const { data: all } = await pub
    .from('events')
    .select('id')
    .eq('hotel_id', HOTEL_ID)
    .order('is_hotel_service', { ascending: false })
    .order('distance_km', { ascending: true })
    .order('id');
  assert.deepEqual(page, all.slice(2, 5));
});

test('single object (Accept: application/vnd.pgrst.object+json)', async () => {
  const row = await insertEvent(db);
  const { data, error } = await pub.from('events').select('id,title').eq('id', row.id).single();
  assert.equal(error, null);
  assert.deepEqual(data, { id: row.id, title: row.title });

  const many = await pub.from('events').select('id').single();
  assert.ok(many.error, 'more than one row is an error');
  assert.equal(many.error.code, 'PGRST116');
  assert.equal(many.status, 406);

  const none = await rest('GET', `events?id=eq.${uuid()}`, { key: ANON_KEY, headers: { Accept: 'application/vnd.pgrst.object+json' } });
  assert.equal(none.status, 406);
  assertPgrstError(none.body, 'PGRST116');
});

test('insert one row and an array; return=representation vs minimal', async () => {
  const id = uuid();
  const { data, error, status } = await db
    .from('kiosk_results')
    .insert({ id, session_id: 'rest-test', results: { interests: 'a', categories: [], events: [] } })
    .select();
  assert.equal(error, null);
  assert.equal(status, 201);
  assert.equal(data.length, 1);
  assert.equal(data[0].id, id);
  assert.deepEqual(data[0].results, { interests: 'a', categories: [], events: [] });
  assert.ok(data[0].created_at, 'created_at filled by the server');

  const two = await db
    .from('kiosk_results')
    .insert([
      { id: uuid(), session_id: 'rest-test', results: { n: 1 } },
      { id: uuid(), session_id: 'rest-test', results: { n: 2 } },
    ])
    .select('session_id');
  assert.equal(two.error, null);
  assert.deepEqual(two.data, [{ session_id: 'rest-test' }, { session_id: 'rest-test' }]);

  const minimal = await rest('POST', 'kiosk_results', {
    body: JSON.stringify({ id: uuid(), session_id: 'rest-test', results: {} }),
    headers: { Prefer: 'return=minimal' },
  });
  assert.equal(minimal.status, 201);
  assert.equal(minimal.body, null, 'return=minimal has no body');

  const rep = await rest('POST', 'kiosk_results', {
    body: JSON.stringify({ id: uuid(), session_id: 'rest-test', results: {} }),
    headers: { Prefer: 'return=representation' },
  });
  assert.equal(rep.status, 201);
  assert.ok(Array.isArray(rep.body) && rep.body.length === 1);
});

test('update with a filter returns the rows and maintains updated_at', async () => {
  const row = await insertEvent(db);
  await new Promise((r) => setTimeout(r, 20));
  const { data, error } = await db.from('events').update({ price_text: '₹ 500' }).eq('id', row.id).select();
  assert.equal(error, null);
  assert.equal(data.length, 1);
  assert.equal(data[0].price_text, '₹ 500');
  assert.equal(data[0].title, row.title, 'other columns unchanged');
  assert.ok(Date.parse(data[0].updated_at) > Date.parse(row.updated_at), 'updated_at moved forward');

  const none = await db.from('events').update({ price_text: 'x' }).eq('id', uuid()).select();
  assert.equal(none.error, null);
  assert.deepEqual(none.data, []);
});

test('delete with a filter; unfiltered update/delete are refused', async () => {
  const row = await insertEvent(db);
  const { data, error } = await db.from('events').delete().eq('id', row.id).select();
  assert.equal(error, null);
  assert.deepEqual(data.map((r) => r.id), [row.id]);
  const gone = await db.from('events').select('id').eq('id', row.id);
  assert.deepEqual(gone.data, []);

  const before = await db.from('events').select('id');
  const delAll = await db.from('events').delete();
  assert.ok(delAll.error, 'unfiltered DELETE refused');
  assert.ok(delAll.status >= 400 && delAll.status < 500, `4xx, got ${delAll.status}`);
  const patchAll = await db.from('events').update({ title: 'everything' });
  assert.ok(patchAll.error, 'unfiltered PATCH refused');
  assert.ok(patchAll.status >= 400 && patchAll.status < 500);
  const after = await db.from('events').select('id');
  assert.equal(after.data.length, before.data.length, 'no rows deleted');
  const renamed = await db.from('events').select('id').eq('title', 'everything');
  assert.deepEqual(renamed.data, [], 'no rows updated');
});

test('errors: unknown table 404 42P01, unknown column 42703, bad filter PGRST100, bad JSON', async () => {
  const t = await pub.from('no_such_table').select('*');
  assert.equal(t.status, 404);
  assert.equal(t.error.code, '42P01');
  const raw = await rest('GET', 'no_such_table?select=*', { key: ANON_KEY });
  assertPgrstError(raw.body, '42P01');

  const c = await pub.from('events').select('id,no_such_column');
  assert.equal(c.status, 400);
  assert.equal(c.error.code, '42703');
  const cf = await pub.from('events').select('id').eq('no_such_column', 1);
  assert.equal(cf.status, 400);
  assert.equal(cf.error.code, '42703');

  const f = await rest('GET', 'events?category=bogusop.x', { key: ANON_KEY });
  assert.equal(f.status, 400);
  assertPgrstError(f.body, 'PGRST100');
  const o = await rest('GET', 'events?order=distance_km.sideways', { key: ANON_KEY });
  assert.equal(o.status, 400);
  assertPgrstError(o.body, 'PGRST100');
  const l = await rest('GET', 'events?limit=abc', { key: ANON_KEY });
  assert.equal(l.status, 400);
  assertPgrstError(l.body);
  const tooMany = Array.from({ length: 101 }, (_, i) => `v${i}`).join(',');
  const big = await rest('GET', `events?category=in.(${tooMany})`, { key: ANON_KEY });
  assert.ok(big.status === 400 || big.status === 200, `in with 101 values: 400 (limit) or 200, got ${big.status}`);

  const j = await rest('POST', 'kiosk_results', { body: '{"session_id": ' });
  assert.equal(j.status, 400);
  assertPgrstError(j.body, 'PGRST102');
});

test('constraint violations: not-null 23502, duplicate key 23505 (409), check 23514', async () => {
  const nn = await db.from('kiosk_results').insert({ id: uuid(), results: {} });
  assert.ok(nn.error);
  assert.equal(nn.error.code, '23502');
  assert.equal(nn.status, 400);

  const id = uuid();
  const first = await db.from('kiosk_results').insert({ id, session_id: 'dup', results: {} });
  assert.equal(first.error, null);
  const dup = await db.from('kiosk_results').insert({ id, session_id: 'dup', results: {} });
  assert.equal(dup.status, 409);
  assert.equal(dup.error.code, '23505');

  const bad = await db.from('sessions').insert({ id: uuid(), customer_id: uuid(), status: 'exploded', kind: 'chat' });
  assert.ok(bad.error, 'status outside the allowed set is refused');
  assert.equal(bad.error.code, '23514');
  const good = await db.from('sessions').insert({ id: uuid(), customer_id: uuid(), status: 'pending', kind: 'chat' }).select();
  assert.equal(good.error, null, JSON.stringify(good.error));
  assert.equal(good.data[0].status, 'pending');
});

test('kiosk_results: a kiosk reads only the sessions it claimed, the anon key none; anon writes nothing to the catalogue', async () => {
  const [A, B] = [uuid(), uuid()];
  const { client: kioskA } = await kiosk(A);
  await insertResult(db, A);
  await insertResult(db, B);

  const mine = await kioskA.from('kiosk_results').select('*').eq('session_id', A);
  assert.equal(mine.error, null);
  assert.equal(mine.data.length, 1);
  assert.equal(mine.data[0].session_id, A);

  // Unfiltered, or filtered any other way: still only its own rows.
  const all = await kioskA.from('kiosk_results').select('*');
  assert.equal(all.error, null);
  assert.deepEqual(all.data.map((r) => r.session_id), [A], 'no other session leaks');
  const other = await kioskA.from('kiosk_results').select('*').neq('session_id', A);
  assert.deepEqual(other.data, [], 'a non-eq session filter leaks nothing');

  // The bare anon key reads none, pinned or not: refused like PostgREST refuses a role without
  // the grant (401, 42501).
  for (const q of [pub.from('kiosk_results').select('*').eq('session_id', A), pub.from('kiosk_results').select('*')]) {
    const r = await q;
    assert.equal(r.data, null, 'no rows leak');
    assert.equal(r.status, 401);
    assert.equal(r.error?.code, '42501');
  }

  const ins = await pub.from('events').insert({ id: uuid(), hotel_id: HOTEL_ID, title: 'anon write', category: 'music', starts_at: new Date().toISOString() });
  assert.ok(ins.error, 'anon cannot insert events');
  assert.ok(ins.status === 401 || ins.status === 403, `status ${ins.status}`);
  assert.equal(ins.error.code, '42501');
  const sess = await pub.from('sessions').select('*');
  assert.ok(sess.error || sess.data.length === 0, 'anon sees no sessions');
});

test('REST without an API key is 401; GET carries Content-Range', async () => {
  const res = await fetch(`${URL_BASE}/rest/v1/events?select=id`);
  assert.equal(res.status, 401);
  const bad = await fetch(`${URL_BASE}/rest/v1/events?select=id`, { headers: { apikey: 'not-a-jwt' } });
  assert.equal(bad.status, 401);
  const ok = await rest('GET', 'events?select=id&limit=2', { key: ANON_KEY });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-range') ?? '', /^(\d+-\d+|\*)\/(\*|\d+)$/);
});
