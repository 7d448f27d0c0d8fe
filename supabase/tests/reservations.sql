-- reserve() and cancel_reservation() (supabase/migrations/0004_reservations.sql) as PostgREST
-- calls them: as the API roles, with the token's claims set. The same refusals, SQLSTATEs and
-- messages as concierge-server (server/tests/reservations.rs). Run by scripts/pg-test; rolled
-- back at the end. The 200-on-10 race is scripts/pg-reserve-race.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
set client_min_messages to warning;
begin;
create extension if not exists pgtap;
select plan(24);

insert into public.hotels (id, name, timezone) values ('res-hotel', 'Res Hotel', 'UTC');
insert into public.events (id, hotel_id, title, category, starts_at, capacity, places_left) values
  ('ee000000-0000-4000-8000-000000000001', 'res-hotel', 'Wine tasting', 'food', '2099-01-01T19:00:00Z', 3, 99),
  ('ee000000-0000-4000-8000-000000000002', 'res-hotel', 'Yesterday', 'food', '2000-01-01T19:00:00Z', 3, null),
  ('ee000000-0000-4000-8000-000000000003', 'res-hotel', 'Walk-in', 'food', '2099-01-01T19:00:00Z', null, 5);

select is((select places_left from public.events where id = 'ee000000-0000-4000-8000-000000000001'), 3,
  'places_left is derived at insert (capacity), whatever is sent');
select is((select places_left from public.events where id = 'ee000000-0000-4000-8000-000000000003'), null,
  'an event without capacity has no places_left');
select ok((select bool_and(prosecdef) from pg_proc where proname in ('reserve', 'cancel_reservation')
  and pronamespace = 'public'::regnamespace), 'reserve and cancel_reservation are security definer');
select ok((select bool_and(proconfig::text like '%search_path=public, pg_temp%') from pg_proc
  where proname in ('reserve', 'cancel_reservation') and pronamespace = 'public'::regnamespace),
  'both pin their search_path');

-- The kiosk: the anon key.
set local role anon;
set local request.jwt.claims = '{"role": "anon", "exp": 4000000000}';
select public.reserve('ee000000-0000-4000-8000-000000000001', ' Ada Guest ', '101', 2) as booked \gset
select is((:'booked'::jsonb ->> 'places_left')::int, 1, 'anon books 2 of 3: 1 left, in the answer');
select is(:'booked'::jsonb ->> 'status', 'confirmed', 'the booking is confirmed');
select ok(not (:'booked'::jsonb ? 'guest_name'), 'the answer carries no guest name');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000001', 'Ben', '102', 2)$$,
  'P0001', 'no places left', 'two more than the one left: no places left');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000001', 'Ben', '102', 0)$$,
  'P0001', 'party size must be between 1 and 10', 'a party of 0 is refused');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000001', 'Ben', '102', 11)$$,
  'P0001', 'party size must be between 1 and 10', 'a party of 11 is refused');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000001', '  ', '102', 1)$$,
  'P0001', 'guest name must be 1 to 120 characters', 'a blank name is refused');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000001', 'Ben', '', 1)$$,
  'P0001', 'room must be 1 to 20 characters', 'a blank room is refused');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-0000000000ff', 'Ben', '102', 1)$$,
  'P0002', 'unknown event', 'an unknown event is P0002 (PostgREST: 404)');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000002', 'Ben', '102', 1)$$,
  'P0001', 'event has started', 'a past event is refused');
select throws_ok($$select public.reserve('ee000000-0000-4000-8000-000000000003', 'Ben', '102', 1)$$,
  'P0001', 'event is not bookable', 'an event without capacity is refused');
select throws_ok($$select count(*) from public.reservations$$,
  '42501', null, 'anon reads no reservation (no grant)');
select throws_ok(format('select public.cancel_reservation(%L)', :'booked'::jsonb ->> 'id'),
  '42501', 'permission denied for function cancel_reservation', 'anon cannot cancel');
select is((select places_left from public.events where id = 'ee000000-0000-4000-8000-000000000001'), 1,
  'the refusals changed nothing');

-- A customer neither cancels nor reads.
set local role authenticated;
set local request.jwt.claims = '{"role": "authenticated", "sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "exp": 4000000000, "app_metadata": {"provider": "email"}}';
select throws_ok(format('select public.cancel_reservation(%L)', :'booked'::jsonb ->> 'id'),
  '42501', 'permission denied for function cancel_reservation', 'a customer cannot cancel');
select is((select count(*) from public.reservations)::int, 0, 'a customer reads no reservation');

-- Staff read and cancel.
set local request.jwt.claims = '{"role": "authenticated", "sub": "55555555-5555-4555-8555-555555555555", "exp": 4000000000, "app_metadata": {"provider": "email", "role": "staff"}}';
select is((select guest_name || ' ' || room from public.reservations where id = (:'booked'::jsonb ->> 'id')::uuid),
  'Ada Guest 101', 'staff read the booking (name trimmed)');
select is((public.cancel_reservation((:'booked'::jsonb ->> 'id')::uuid) ->> 'places_left')::int, 3,
  'staff cancel: the places come back');
select throws_ok(format('select public.cancel_reservation(%L)', :'booked'::jsonb ->> 'id'),
  'P0001', 'reservation is already cancelled', 'cancelling twice is refused');
select throws_ok($$select public.cancel_reservation('ee000000-0000-4000-8000-0000000000ff')$$,
  'P0002', 'unknown reservation', 'an unknown reservation is P0002');

reset role;
select * from finish();
rollback;
