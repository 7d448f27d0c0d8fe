// Auth (issue 6): supabase-js's auth client against /auth/v1, then who may see and change which
// `sessions` rows over REST and realtime — two customers, two staff members, and hostile tokens.
// Needs a server started with --seed-demo (the demo staff accounts); the JWT secret defaults to
// the development one (CONFORMANCE_JWT_SECRET overrides) so hostile tokens can be minted here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { URL_BASE, ANON_KEY, VSN, WAIT_MS, GRACE_MS, uuid, waitUntil, sleep, subscribed, service, RawSocket } from './lib/env.js';

const SECRET = process.env.CONFORMANCE_JWT_SECRET ?? 'concierge-dev-secret-not-for-production-use-change-me-0001';
const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff', name: 'Priya Sharma' };
const STAFF2 = { email: 'arjun@concierge.test', password: 'concierge-staff', name: 'Arjun Mehta' };

const clients = [];
/** A supabase-js client with auth enabled (no persistence: Node has no storage). */
function userClient() {
  const c = createClient(URL_BASE, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket, vsn: VSN, timeout: WAIT_MS },
  });
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) {
    await c.removeAllChannels().catch(() => {});
    c.realtime.disconnect();
  }
});

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
function sign(claims, secret = SECRET, header = { alg: 'HS256', typ: 'JWT' }) {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const nowS = () => Math.floor(Date.now() / 1000);
const userClaims = (sub, role = 'customer', exp = nowS() + 600) => ({
  aud: 'authenticated', role: 'authenticated', sub, exp, iat: nowS(), app_metadata: { role }, user_metadata: {},
});

async function signUp(name) {
  const c = userClient();
  const email = `${name.toLowerCase()}-${uuid().slice(0, 8)}@guest.test`;
  const { data, error } = await c.auth.signUp({ email, password: 'correct-horse', options: { data: { name } } });
  assert.equal(error, null, `sign-up of ${email}`);
  return { c, email, id: data.user.id, token: data.session.access_token };
}
async function signIn(who) {
  const c = userClient();
  const { data, error } = await c.auth.signInWithPassword({ email: who.email, password: who.password });
  assert.equal(error, null, `sign-in of ${who.email}`);
  return { c, id: data.user.id, token: data.session.access_token };
}

/** Raw REST with an explicit Bearer token (anon key as apikey). */
async function rest(method, pathAndQuery, token, body) {
  const res = await fetch(`${URL_BASE}/rest/v1/${pathAndQuery}`, {
    method,
    headers: {
      apikey: ANON_KEY, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Prefer: 'return=representation',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// ---------------------------------------------------------------- supabase-js auth client

test('auth: sign-up, sign-in, getUser, refresh (rotation, reuse refused), sign-out', async () => {
  const c = userClient();
  const email = `ana-${uuid().slice(0, 8)}@guest.test`;
  const up = await c.auth.signUp({ email, password: 'correct-horse', options: { data: { name: 'Ana' } } });
  assert.equal(up.error, null);
  const s = up.data.session;
  assert.ok(s, 'sign-up returns a session (auto-confirm)');
  assert.equal(s.token_type, 'bearer');
  assert.ok(s.expires_in > 0 && s.expires_at > nowS(), 'expiry');
  assert.equal(up.data.user.email, email);
  assert.equal(up.data.user.role, 'authenticated');
  assert.equal(up.data.user.aud, 'authenticated');
  assert.equal(up.data.user.app_metadata.role, 'customer', 'sign-ups are customers');
  assert.equal(up.data.user.user_metadata.name, 'Ana');
  const claims = JSON.parse(Buffer.from(s.access_token.split('.')[1], 'base64url'));
  assert.equal(JSON.parse(Buffer.from(s.access_token.split('.')[0], 'base64url')).alg, 'HS256');
  assert.equal(claims.sub, up.data.user.id);
  assert.equal(claims.role, 'authenticated');
  assert.equal(claims.exp, s.expires_at);

  const c2 = userClient();
  const inn = await c2.auth.signInWithPassword({ email: email.toUpperCase(), password: 'correct-horse' });
  assert.equal(inn.error, null, 'emails are case-insensitive');
  assert.equal(inn.data.user.id, up.data.user.id);
  const me = await c2.auth.getUser();
  assert.equal(me.error, null);
  assert.equal(me.data.user.id, up.data.user.id);

  const old = inn.data.session.refresh_token;
  const r = await c2.auth.refreshSession();
  assert.equal(r.error, null);
  assert.notEqual(r.data.session.refresh_token, old, 'rotated');
  assert.ok(r.data.session.access_token);
  // Within the reuse interval (GoTrue's, 1 s on this server, see run.sh) a second refresh with
  // the rotated token (another tab, a retry) gets the same successor and keeps the sign-in.
  const again = await userClient().auth.refreshSession({ refresh_token: old });
  assert.equal(again.error, null);
  assert.equal(again.data.session.refresh_token, r.data.session.refresh_token, 'same successor');
  await new Promise((res) => setTimeout(res, 1500));
  // Past it, reusing the rotated token is refused, and revokes the chain (the new token dies too).
  const c3 = userClient();
  const reuse = await c3.auth.refreshSession({ refresh_token: old });
  assert.ok(reuse.error, 'reuse refused');
  assert.equal(reuse.error.status, 400);
  assert.equal(reuse.error.code, 'refresh_token_already_used');
  const after = await userClient().auth.refreshSession({ refresh_token: r.data.session.refresh_token });
  assert.equal(after.error?.code, 'refresh_token_already_used', 'chain revoked after reuse');

  // Sign-out revokes the refresh token of that sign-in.
  const c4 = userClient();
  const s4 = (await c4.auth.signInWithPassword({ email, password: 'correct-horse' })).data.session;
  assert.equal((await c4.auth.signOut()).error, null);
  const dead = await userClient().auth.refreshSession({ refresh_token: s4.refresh_token });
  assert.ok(dead.error, 'refresh after sign-out refused');
});

test('auth: errors as GoTrue sends them (supabase-js parses code and status)', async () => {
  const c = userClient();
  const bad = await c.auth.signInWithPassword({ email: STAFF.email, password: 'wrong-password' });
  assert.equal(bad.error?.status, 400);
  assert.equal(bad.error?.code, 'invalid_credentials');
  assert.equal(bad.error?.message, 'Invalid login credentials');
  const nobody = await c.auth.signInWithPassword({ email: `nobody-${uuid()}@x.test`, password: 'whatever' });
  assert.equal(nobody.error?.code, 'invalid_credentials', 'unknown email looks the same');
  const dup = await c.auth.signUp({ email: STAFF.email, password: 'another-one' });
  assert.equal(dup.error?.status, 422);
  assert.equal(dup.error?.code, 'user_already_exists');
  const weak = await c.auth.signUp({ email: `w-${uuid().slice(0, 8)}@x.test`, password: '123' });
  assert.equal(weak.error?.status, 422);
  assert.equal(weak.error?.code, 'weak_password');
  const badEmail = await c.auth.signUp({ email: 'not-an-email', password: 'long-enough' });
  assert.equal(badEmail.error?.status, 400);
  const noKey = await fetch(`${URL_BASE}/auth/v1/token?grant_type=password`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401, 'the API key is required');
});

// ---------------------------------------------------------------- REST row rules

test('REST: a customer reads and writes only their own sessions; filters cannot widen access', async () => {
  const a = await signUp('Asha');
  const b = await signUp('Bilal');
  const ins = await rest('POST', 'sessions?select=*', a.token, { kind: 'video', topic: 'mechanic' });
  assert.equal(ins.status, 201, JSON.stringify(ins.body));
  const sa = ins.body[0];
  assert.equal(sa.customer_id, a.id, 'customer_id forced to the caller');
  assert.equal(sa.status, 'pending');
  assert.equal(sa.customer_name, 'Asha', 'customer_name stamped from the token');
  const sb = (await rest('POST', 'sessions?select=*', b.token, { kind: 'chat', topic: 'towels', customer_id: b.id, customer_name: 'Asha' })).body[0];
  assert.equal(sb.customer_name, 'Bilal', 'a client-sent customer_name is replaced by the token\'s');

  // Through supabase-js as well: B's client sees only B's rows, whatever the filter.
  const all = await b.c.from('sessions').select('*');
  assert.equal(all.error, null);
  assert.deepEqual(all.data.map((r) => r.id), [sb.id]);
  const widen = await b.c.from('sessions').select('*').neq('customer_id', b.id);
  assert.equal(widen.error, null);
  assert.deepEqual(widen.data, [], 'customer_id=neq.<me> returns nothing');
  const byId = await rest('GET', `sessions?id=eq.${sa.id}`, b.token);
  assert.deepEqual(byId.body, [], "B cannot read A's session by id");

  // Writes: not for someone else, not in another state, not someone else's row.
  const forged = await rest('POST', 'sessions', a.token, { kind: 'chat', customer_id: b.id });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.code, '42501');
  const live = await rest('POST', 'sessions', a.token, { kind: 'chat', status: 'live' });
  assert.equal(live.status, 403);
  const steal = await rest('PATCH', `sessions?id=eq.${sa.id}`, b.token, { status: 'cancelled' });
  assert.equal(steal.status, 200);
  assert.deepEqual(steal.body, [], "B's update reaches no row of A's");
  const promote = await rest('PATCH', `sessions?id=eq.${sa.id}`, a.token, { status: 'live' });
  assert.equal(promote.status, 403, 'a customer cannot start their own session');
  const hijack = await rest('PATCH', `sessions?id=eq.${sa.id}`, a.token, { staff_name: 'Me' });
  assert.equal(hijack.status, 403);
  const del = await rest('DELETE', `sessions?id=eq.${sa.id}`, a.token);
  assert.ok(del.status === 401 || del.status === 403, 'no deletes');
  const cancel = await rest('PATCH', `sessions?id=eq.${sa.id}`, a.token, { status: 'cancelled' });
  assert.equal(cancel.status, 200);
  assert.equal(cancel.body[0].status, 'cancelled');
  assert.ok(cancel.body[0].ended_at, 'ended_at stamped');
  const again = await rest('PATCH', `sessions?id=eq.${sa.id}`, a.token, { status: 'completed' });
  assert.equal(again.status, 403, 'an ended session stays ended');
});

test('REST: staff see pending and their own sessions and follow accept → live → completed', async () => {
  const cust = await signUp('Chen');
  const priya = await signIn(STAFF);
  const arjun = await signIn(STAFF2);
  const s = (await rest('POST', 'sessions?select=*', cust.token, { kind: 'concierge', topic: 'dinner' })).body[0];
  for (const st of [priya, arjun]) {
    const seen = await rest('GET', `sessions?id=eq.${s.id}`, st.token);
    assert.equal(seen.body.length, 1, 'pending sessions are visible to all staff');
  }
  assert.equal((await rest('POST', 'sessions', priya.token, { kind: 'chat', customer_id: cust.id })).status, 403, 'staff do not create sessions');
  const skip = await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'live', staff_id: priya.id });
  assert.equal(skip.status, 403, 'no skipping accept');
  const forOther = await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'waiting', staff_id: arjun.id });
  assert.equal(forOther.status, 403, 'staff accept for themselves only');
  const acc = await rest('PATCH', `sessions?id=eq.${s.id}&status=eq.pending`, priya.token, { status: 'waiting', staff_id: priya.id, staff_name: 'Mallory' });
  assert.equal(acc.status, 200, JSON.stringify(acc.body));
  assert.equal(acc.body[0].staff_id, priya.id);
  assert.equal(acc.body[0].staff_name, STAFF.name, "the name comes from the staff member's token");
  // Arjun no longer sees it, and cannot move it.
  assert.deepEqual((await rest('GET', `sessions?id=eq.${s.id}`, arjun.token)).body, []);
  assert.deepEqual((await rest('PATCH', `sessions?id=eq.${s.id}`, arjun.token, { status: 'live' })).body, []);
  const widen = await rest('GET', `sessions?staff_id=neq.${arjun.id}`, arjun.token);
  assert.ok(widen.body.every((r) => r.status === 'pending'), 'filters do not widen staff access');
  const live = await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'live' });
  assert.equal(live.body[0].status, 'live');
  const done = await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'completed' });
  assert.equal(done.body[0].status, 'completed');
  assert.ok(done.body[0].ended_at);
  const back = await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'live' });
  assert.equal(back.status, 403, 'no way back from completed');
  // The customer sees the whole story on their own row.
  assert.equal((await rest('GET', `sessions?id=eq.${s.id}`, cust.token)).body[0].staff_name, STAFF.name);
});

test('REST: hostile tokens are refused (forged signature, alg none, expired, unknown role, anon)', async () => {
  const a = await signUp('Dara');
  const mine = (await rest('POST', 'sessions?select=*', a.token, { kind: 'chat', topic: 'x' })).body[0];
  const cases = {
    'forged signature': sign({ ...userClaims(a.id, 'staff') }, 'not-the-secret'),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...userClaims(a.id), role: 'service_role' })}.`,
    expired: sign(userClaims(a.id, 'customer', nowS() - 30)),
    'database role postgres': sign({ ...userClaims(a.id), role: 'postgres' }),
    'unknown app role': sign(userClaims(a.id, 'admin')),
    'non-UUID sub': sign(userClaims('admin')),
  };
  for (const [name, tok] of Object.entries(cases)) {
    const r = await rest('GET', 'sessions?select=*', tok);
    assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`);
    const w = await rest('PATCH', `sessions?id=eq.${mine.id}`, tok, { status: 'cancelled' });
    assert.equal(w.status, 401, `${name} (write)`);
  }
  const anon = await rest('GET', 'sessions?select=*', ANON_KEY);
  assert.ok(anon.status === 401 || anon.status === 403, 'anon reads no sessions');
  // A validly signed token for another app role is taken at its word only when the server
  // signed it: a customer token whose app_metadata says staff cannot be produced without the
  // secret (the forged case above), and /auth/v1 never issues one.
  const user = await fetch(`${URL_BASE}/auth/v1/user`, { headers: { apikey: ANON_KEY, Authorization: `Bearer ${cases['forged signature']}` } });
  assert.equal(user.status, 403);
});

// ---------------------------------------------------------------- realtime row rules

function collector() {
  const got = [];
  return { got, push: (p) => got.push(p) };
}
const sessionsBinding = (filter) => ({ event: '*', schema: 'public', table: 'sessions', ...(filter ? { filter } : {}) });

test('realtime: customers receive only their own sessions, even unfiltered or with neq filters', async () => {
  const a = await signUp('Esha');
  const b = await signUp('Farid');
  await a.c.realtime.setAuth(a.token);
  await b.c.realtime.setAuth(b.token);
  const ga = collector();
  const gaNeq = collector();
  const gb = collector();
  const chA = a.c.channel(`cust-a-${uuid()}`).on('postgres_changes', sessionsBinding(), ga.push);
  const chANeq = a.c.channel(`cust-a-neq-${uuid()}`).on('postgres_changes', sessionsBinding(`customer_id=neq.${a.id}`), gaNeq.push);
  const chB = b.c.channel(`cust-b-${uuid()}`).on('postgres_changes', sessionsBinding(), gb.push);
  await Promise.all([subscribed(chA), subscribed(chANeq), subscribed(chB)]);

  const db = service();
  const { data: [sb] } = await db.from('sessions').insert({ customer_id: b.id, kind: 'chat', status: 'pending', topic: 'b' }).select();
  const { data: [sa] } = await db.from('sessions').insert({ customer_id: a.id, kind: 'chat', status: 'pending', topic: 'a' }).select();
  await db.from('sessions').update({ status: 'cancelled' }).eq('id', sb.id);
  // A's own insert (after B's) is the barrier; B's update (after that) is B's barrier.
  await waitUntil(() => ga.got.some((p) => p.new?.id === sa.id), "A's own row");
  await waitUntil(() => gb.got.some((p) => p.eventType === 'UPDATE' && p.new?.id === sb.id), "B's update");
  await sleep(GRACE_MS);
  assert.ok(ga.got.every((p) => (p.new?.customer_id ?? a.id) === a.id), `A saw only A's rows: ${JSON.stringify(ga.got)}`);
  assert.ok(!ga.got.some((p) => p.new?.id === sb.id || p.old?.id === sb.id), "no trace of B's row for A");
  assert.deepEqual(gaNeq.got, [], 'customer_id=neq.<me> delivers nothing');
  assert.ok(gb.got.every((p) => p.new?.customer_id === b.id), "B saw only B's rows");
});

test('realtime: staff receive pending sessions and their own; an accepted session stops reaching other staff', async () => {
  const cust = await signUp('Gita');
  const priya = await signIn(STAFF);
  const arjun = await signIn(STAFF2);
  await priya.c.realtime.setAuth(priya.token);
  await arjun.c.realtime.setAuth(arjun.token);
  const gp = collector();
  const ga = collector();
  await Promise.all([
    subscribed(priya.c.channel(`staff-p-${uuid()}`).on('postgres_changes', sessionsBinding(), gp.push)),
    subscribed(arjun.c.channel(`staff-a-${uuid()}`).on('postgres_changes', sessionsBinding(), ga.push)),
  ]);
  const s = (await rest('POST', 'sessions?select=*', cust.token, { kind: 'chat', topic: 'rt' })).body[0];
  await waitUntil(() => gp.got.some((p) => p.new?.id === s.id) && ga.got.some((p) => p.new?.id === s.id), 'both staff see the request');
  await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'waiting', staff_id: priya.id });
  await rest('PATCH', `sessions?id=eq.${s.id}`, priya.token, { status: 'live' });
  await waitUntil(() => gp.got.some((p) => p.new?.id === s.id && p.new.status === 'live'), 'Priya follows her session');
  await sleep(GRACE_MS);
  const leaked = ga.got.filter((p) => p.new?.id === s.id && p.new.status !== 'pending');
  assert.deepEqual(leaked, [], "Arjun never receives Priya's session once it is hers");
});

test('realtime: forged, alg none and expired tokens are refused at join', async () => {
  const a = await signUp('Hana');
  const bad = {
    forged: sign(userClaims(a.id), 'not-the-secret'),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...userClaims(a.id), role: 'service_role' })}.`,
    expired: sign(userClaims(a.id, 'customer', nowS() - 60)),
  };
  for (const [name, tok] of Object.entries(bad)) {
    const sock = await RawSocket.open();
    try {
      const { topic, reply } = await sock.join(`bad-${uuid()}`, [sessionsBinding()], { accessToken: tok });
      if (reply.payload.status === 'error') {
        assert.match(String(reply.payload.response?.reason), /jwt|token|expired|invalid/i, `${name}: ${reply.raw}`);
      } else {
        // The other hosted behaviour: ok, then a system error and phx_close.
        const sys = await sock.next((m) => m.topic === topic && m.event === 'system' && m.payload.status === 'error', `${name}: system error`);
        assert.ok(sys);
        await sock.next((m) => m.topic === topic && m.event === 'phx_close', `${name}: phx_close`);
      }
    } finally {
      sock.close();
    }
  }
});

test('realtime: a token that expires on a joined channel ends it (system error, then phx_close)', async () => {
  const a = await signUp('Ines');
  const sock = await RawSocket.open();
  try {
    const tok = sign(userClaims(a.id, 'customer', nowS() + 2));
    const { topic, reply } = await sock.join(`exp-${uuid()}`, [sessionsBinding()], { accessToken: tok });
    assert.equal(reply.payload.status, 'ok', reply.raw);
    const sys = await sock.next(
      (m) => m.topic === topic && m.event === 'system' && m.payload.status === 'error',
      'system error on expiry', 6000,
    );
    assert.match(sys.payload.message, /expired/i);
    await sock.next((m) => m.topic === topic && m.event === 'phx_close', 'phx_close after expiry');
  } finally {
    sock.close();
  }
});

test('realtime: an access_token push replaces the token (new claims apply; a bad one closes)', async () => {
  const a = await signUp('Jun');
  const b = await signUp('Kiran');
  const sock = await RawSocket.open();
  try {
    const { topic, joinRef, reply } = await sock.join(`swap-${uuid()}`, [sessionsBinding()], { accessToken: a.token });
    assert.equal(reply.payload.status, 'ok', reply.raw);
    await sock.next((m) => m.topic === topic && m.event === 'system' && m.payload.extension === 'postgres_changes', 'subscribed');
    sock.push(topic, 'access_token', { access_token: b.token }, { joinRef });
    const db = service();
    // Give the server a moment to re-create the subscription with B's claims.
    let gotB = null;
    const deadline = Date.now() + WAIT_MS;
    while (!gotB && Date.now() < deadline) {
      const { data: [row] } = await db.from('sessions').insert({ customer_id: b.id, kind: 'chat', status: 'pending' }).select();
      gotB = await sock.next((m) => m.topic === topic && m.event === 'postgres_changes' && m.payload.data?.record?.id === row.id, "B's row", 500).catch(() => null);
    }
    assert.ok(gotB, "after the swap, B's rows arrive");
    const { data: [ra] } = await db.from('sessions').insert({ customer_id: a.id, kind: 'chat', status: 'pending' }).select();
    const { data: [barrier] } = await db.from('sessions').insert({ customer_id: b.id, kind: 'chat', status: 'pending' }).select();
    await sock.next((m) => m.event === 'postgres_changes' && m.payload.data?.record?.id === barrier.id, 'barrier');
    assert.equal(sock.all((m) => m.event === 'postgres_changes' && m.payload.data?.record?.id === ra.id).length, 0, "A's rows no longer arrive");
    sock.push(topic, 'access_token', { access_token: sign(userClaims(b.id), 'not-the-secret') }, { joinRef });
    await sock.next((m) => m.topic === topic && m.event === 'system' && m.payload.status === 'error', 'system error for a forged token');
    await sock.next((m) => m.topic === topic && m.event === 'phx_close', 'phx_close');
  } finally {
    sock.close();
  }
});

// ---------------------------------------------------------------- kiosk identities (issue 15)

test('kiosk: signInAnonymously, claim a session, search, and only that kiosk receives and reads its results', async () => {
  const k1 = userClient();
  const k2 = userClient();
  const s1 = await k1.auth.signInAnonymously();
  const s2 = await k2.auth.signInAnonymously();
  for (const s of [s1, s2]) {
    assert.equal(s.error, null, JSON.stringify(s.error));
    assert.equal(s.data.user.is_anonymous, true);
    assert.equal(s.data.user.role, 'authenticated');
    assert.ok(s.data.session.access_token && s.data.session.refresh_token);
  }
  const session = uuid();
  const claim = await k1.from('kiosk_sessions').insert({ id: session }).select().single();
  assert.equal(claim.error, null, JSON.stringify(claim.error));
  assert.equal(claim.data.owner_id, s1.data.user.id, 'the owner is the token');
  const steal = await k2.from('kiosk_sessions').insert({ id: session });
  assert.equal(steal.error?.code, '23505', 'a session id is claimed once');

  const g1 = collector();
  const g2 = collector();
  const filter = `session_id=eq.${session}`;
  await k1.realtime.setAuth(s1.data.session.access_token);
  await k2.realtime.setAuth(s2.data.session.access_token);
  await Promise.all([
    subscribed(k1.channel(`kiosk-1-${uuid()}`).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter }, g1.push)),
    subscribed(k2.channel(`kiosk-2-${uuid()}`).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter }, g2.push)),
  ]);
  const res = await fetch(`${URL_BASE}/api/event/by-interests?session_id=${session}`, {
    method: 'POST',
    headers: { apikey: ANON_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ interests: 'live jazz', hotel_id: 'marriott-bangalore' }),
  });
  assert.equal(res.status, 201);
  await waitUntil(() => g1.got.length === 1, "K1's result");
  await sleep(GRACE_MS);
  assert.equal(g1.got[0].new.owner_id, s1.data.user.id);
  assert.deepEqual(g2.got, [], "K2 received nothing of K1's session");

  const own = await k1.from('kiosk_results').select('*');
  assert.equal(own.error, null);
  assert.equal(own.data.length, 1, 'the owner reads its results without naming the session');
  const other = await k2.from('kiosk_results').select('*').eq('session_id', session);
  assert.deepEqual(other.data, [], "K2 reads none of K1's results");
});
