// Reservations (issue 17) through supabase-js `.rpc()`, unchanged: `reserve` for anyone with a
// key (a kiosk books for a guest), `cancel_reservation` for staff, refusals in PostgREST's
// shape, places_left live over realtime. Needs --seed-demo (the demo staff account).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANON_KEY, anon, service, client, subscribe, insertEvent, waitUntil } from './lib/env.js';

const STAFF = { email: 'staff@concierge.test', password: 'concierge-staff' };
const db = service();

async function bookable(capacity) {
  return insertEvent(db, { capacity, starts_at: new Date(Date.now() + 86_400_000).toISOString() });
}
async function staffClient() {
  const c = client(ANON_KEY);
  const { error } = await c.auth.signInWithPassword(STAFF);
  assert.equal(error, null, 'staff sign-in');
  return c;
}
const booking = (event_id, party_size) => ({ event_id, guest_name: 'Ada Guest', room: '101', party_size });

test('rpc reserve: a kiosk books, the answer is the booking, every kiosk sees places_left live', async () => {
  const ev = await bookable(3);
  assert.equal(ev.places_left, 3, 'places_left is derived from capacity');
  const watcher = anon();
  const seen = [];
  const ch = watcher.channel(`places-${ev.id}`).on('postgres_changes',
    { event: 'UPDATE', schema: 'public', table: 'events', filter: `id=eq.${ev.id}` },
    (p) => seen.push(p.new.places_left));
  assert.equal((await subscribe(ch)).status, 'SUBSCRIBED');
  const kiosk = anon();
  const { data, error, status } = await kiosk.rpc('reserve', booking(ev.id, 2));
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.equal(data.status, 'confirmed');
  assert.equal(data.places_left, 1);
  assert.equal(data.event_id, ev.id);
  assert.ok(typeof data.id === 'string' && data.id.length === 36);
  await waitUntil(() => seen.includes(1), 'places_left 1 over realtime');
  await watcher.removeAllChannels();
});

test('rpc reserve: refusals are PostgREST errors with the function\'s code, and change nothing', async () => {
  const ev = await bookable(1);
  const pub = anon();
  for (const [args, status, code, message] of [
    [booking(ev.id, 2), 400, 'P0001', 'no places left'],
    [booking(ev.id, 0), 400, 'P0001', 'party size must be between 1 and 10'],
    [booking(ev.id, 11), 400, 'P0001', 'party size must be between 1 and 10'],
    [{ ...booking(ev.id, 1), room: ' ' }, 400, 'P0001', 'room must be 1 to 20 characters'],
    [booking('ee000000-0000-4000-8000-0000000000ff', 1), 404, 'P0002', 'unknown event'],
  ]) {
    const r = await pub.rpc('reserve', args);
    assert.equal(r.data, null);
    assert.equal(r.status, status, JSON.stringify(r.error));
    assert.equal(r.error.code, code);
    assert.equal(r.error.message, message);
  }
  const left = (await pub.from('events').select('places_left').eq('id', ev.id).single()).data.places_left;
  assert.equal(left, 1);
  const missing = await pub.rpc('reserve', { event_id: ev.id });
  assert.equal(missing.status, 404);
  assert.equal(missing.error.code, 'PGRST202');
});

test('rpc cancel_reservation: staff only; the places come back; names are for staff', async () => {
  const ev = await bookable(4);
  const pub = anon();
  const { data: b } = await pub.rpc('reserve', booking(ev.id, 3));
  assert.equal(b.places_left, 1);

  const read = await pub.from('reservations').select('*');
  assert.equal(read.error?.code, '42501', 'the anon key reads no reservation');

  const denied = await pub.rpc('cancel_reservation', { reservation_id: b.id });
  assert.equal(denied.status, 401);
  assert.equal(denied.error.code, '42501');

  const staff = await staffClient();
  const list = await staff.from('reservations').select('guest_name, room, party_size, status').eq('event_id', ev.id);
  assert.equal(list.error, null);
  assert.deepEqual(list.data, [{ guest_name: 'Ada Guest', room: '101', party_size: 3, status: 'confirmed' }]);

  const { data, error } = await staff.rpc('cancel_reservation', { reservation_id: b.id });
  assert.equal(error, null);
  assert.equal(data.status, 'cancelled');
  assert.equal(data.places_left, 4);
  const again = await staff.rpc('cancel_reservation', { reservation_id: b.id });
  assert.equal(again.status, 400);
  assert.equal(again.error.message, 'reservation is already cancelled');
  await staff.auth.signOut();
});
