-- What a fresh Supabase project already has before any user migration runs, reduced to the parts
-- the Concierge migrations and tests touch. Used only by scripts/pg-test on a throw-away cluster;
-- never apply this to a Supabase project (it has all of this, and more).
--
-- Sources: supabase/postgres `migrations/db/init-scripts/00000000000000-initial-schema.sql`
-- (roles, default privileges, the realtime publication) and
-- `00000000000001-auth-schema.sql` (auth.users, auth.uid(), auth.role(), auth.jwt()).

-- Roles PostgREST switches to. They cannot log in; the authenticator (here: the test's
-- superuser) does `set role` to them. service_role bypasses row-level security.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

grant usage on schema public to anon, authenticated, service_role;

-- Supabase grants everything in `public` to the API roles by default and relies on row-level
-- security; a migration that wants fewer privileges must revoke them. Reproduced here so a
-- migration that forgets to revoke fails its tests the way it would on a real project.
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

create extension if not exists pgcrypto;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- The columns of GoTrue's auth.users the app's rules read (the real table has many more).
create table if not exists auth.users (
  id                 uuid primary key,
  email              text,
  is_anonymous       boolean not null default false,
  raw_app_meta_data  jsonb,
  raw_user_meta_data jsonb,
  created_at         timestamptz default now()
);

-- Exactly as Supabase defines them: PostgREST puts the verified JWT's claims in
-- `request.jwt.claims` (and, in older versions, one setting per claim).
create or replace function auth.uid() returns uuid
language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;

-- Realtime streams the tables in this publication (created empty by Supabase).
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;

-- Realtime Authorization (private channels): the table whose RLS policies decide who may join a
-- private channel and send on it, as the Realtime server's tenant migrations leave it (supabase/
-- realtime `lib/realtime/tenants/repo/migrations/`, the state its `priv/repo/tenant_db_dump_15.sql`
-- shows: 20240523004032 redefine_authorization_tables, 20241030150047 messages_partitioning,
-- 20241108114728 messages_using_uuid, 20260514120000 add_binary_payload_to_messages). Realtime
-- checks a join by inserting one row per extension as its own role, then, as the user
-- (`role`, `request.jwt.claims`, `realtime.topic` set), selecting them: visible = may receive
-- (read). It checks sending (broadcast, presence track) by inserting a row as the user:
-- allowed = may send (write). Both inside a transaction it rolls back.
do $$
begin
  -- Owner of the realtime objects on a real project; here only so the shim can mirror it.
  if not exists (select 1 from pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin nologin noinherit noreplication;
  end if;
end
$$;

create schema if not exists realtime;
grant usage on schema realtime to anon, authenticated, service_role;

create table if not exists realtime.messages (
  topic          text not null,
  extension      text not null,
  payload        jsonb,
  event          text,
  private        boolean default false,
  updated_at     timestamp without time zone not null default now(),
  inserted_at    timestamp without time zone not null default now(),
  id             uuid not null default gen_random_uuid(),
  binary_payload bytea,
  primary key (id, inserted_at)
) partition by range (inserted_at);

-- Realtime creates a partition per day, from yesterday to three days ahead, when a tenant
-- starts (Realtime.Tenants.create_messages_partitions); an insert outside them fails.
do $$
declare
  d date;
begin
  for d in select generate_series(current_date - 1, current_date + 3, interval '1 day')::date loop
    execute format('create table if not exists realtime.%I partition of realtime.messages for values from (%L) to (%L)',
                   'messages_' || to_char(d, 'YYYY_MM_DD'), d, d + 1);
    execute format('alter table realtime.%I owner to supabase_realtime_admin', 'messages_' || to_char(d, 'YYYY_MM_DD'));
  end loop;
end
$$;

alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_realtime_admin;
grant select, insert, update on realtime.messages to anon, authenticated, service_role;

-- The topic being joined (without `realtime:`), which Realtime sets for its checks.
create or replace function realtime.topic() returns text
language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;
alter function realtime.topic() owner to supabase_realtime_admin;
