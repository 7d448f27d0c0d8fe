-- After all migrations: the rows written under 0001 (supabase/tests/legacy_data.sql) are
-- still there, keep their data, and fall under the new rules.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
set client_min_messages to warning;
begin;
create extension if not exists pgtap;
select plan(5);

select is(
  (select status || ' ' || kind || ' ' || topic from public.sessions
   where id = '0d000000-0000-4000-8000-000000000001'),
  'live chat from 0001',
  'upgrade: a session written under 0001 keeps its data');

select is(
  (select customer_name from public.sessions where id = '0d000000-0000-4000-8000-000000000001'),
  null,
  'upgrade: it reads customer_name as NULL');

select is(
  (select owner_id from public.kiosk_results where id = '0d000000-0000-4000-8000-000000000002'),
  null,
  'upgrade: a kiosk result written under 0001 belongs to no kiosk');

-- Its customer may still end it.
set local role authenticated;
set local request.jwt.claims = '{"role": "authenticated", "sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "exp": 4000000000, "app_metadata": {"provider": "email"}, "user_metadata": {"name": "Ada Guest"}}';
select lives_ok(
  $$update public.sessions set status = 'completed' where id = '0d000000-0000-4000-8000-000000000001'$$,
  'upgrade: its customer ends it under the new rules');
reset role;
select isnt(
  (select ended_at from public.sessions where id = '0d000000-0000-4000-8000-000000000001'),
  null,
  'upgrade: and the server stamps the end time');

select * from finish();
rollback;
