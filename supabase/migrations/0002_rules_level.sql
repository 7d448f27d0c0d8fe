-- Concierge 0002: the hosted rules brought level with the local server (issue 15).
--
-- 0001 may already be applied on deployments, so this migration changes it in place and is
-- safe to run on a database that has 0001 (and only 0001). What it adds:
--   * sessions.customer_name (the SQLite schema has it; staff see whom they help);
--   * server-owned columns set by triggers, never trusted from a client (anon/authenticated):
--     id, created_at, updated_at, ended_at, customer_id / customer_name on insert (from the
--     token), staff_name on accept (from the token);
--   * the session lifecycle (crates/wire/src/lifecycle.rs, MOVES) as a trigger, and the columns
--     each role may not change;
--   * kiosk privacy: a kiosk is an anonymous Supabase user (is_anonymous in its JWT); it claims
--     the session ids it shows in `kiosk_sessions`, and only that owner reads their
--     `kiosk_results` (no more "any anon key reads a day of every kiosk's results");
--   * explicit grants (Supabase grants ALL on public tables to anon/authenticated by default;
--     we revoke and grant back exactly what the rules need);
--   * the realtime publication and replica identity the subscriptions rely on.
-- The case table tests/authz/cases.toml states every rule; scripts/pg-test proves it here.

-- ---------------------------------------------------------------------------------------------
-- Who is asking
-- ---------------------------------------------------------------------------------------------

-- A client is a request that came through the API with the anon key or a user token. Everything
-- else (service_role, the dashboard, migrations, security-definer functions) is trusted and
-- not rewritten by the triggers below.
create or replace function public.is_client() returns boolean
language sql stable as $$
  select current_user in ('anon', 'authenticated')
$$;

-- What a signed-in user is in the app: 'kiosk' (an anonymous sign-in), 'staff'
-- (app_metadata.role = 'staff', which only the service role can set) or 'customer'
-- (no app role, or 'customer'). NULL for anything else, which then matches no policy.
create or replace function public.app_role() returns text
language sql stable as $$
  select case
    when auth.role() is distinct from 'authenticated' or auth.uid() is null then null
    when auth.jwt() -> 'is_anonymous' = 'true'::jsonb then 'kiosk'
    when auth.jwt() -> 'app_metadata' -> 'role' is null
      or auth.jwt() -> 'app_metadata' -> 'role' = 'null'::jsonb then 'customer'
    when auth.jwt() -> 'app_metadata' ->> 'role' in ('customer', 'staff')
      then auth.jwt() -> 'app_metadata' ->> 'role'
    else null
  end
$$;

-- 0001's policies call is_staff(); it now means the same as app_role() = 'staff'.
create or replace function public.is_staff() returns boolean
language sql stable as $$
  select coalesce(public.app_role() = 'staff', false)
$$;

-- The token's display name (user_metadata.name), cut to 120 characters as the local server does.
create or replace function public.token_name() returns text
language sql stable as $$
  select left(auth.jwt() -> 'user_metadata' ->> 'name', 120)
$$;

-- ---------------------------------------------------------------------------------------------
-- The session lifecycle: crates/wire/src/lifecycle.rs MOVES, row for row.
-- ---------------------------------------------------------------------------------------------

create or replace function public.session_may_move(by_role text, from_status text, to_status text)
returns boolean
language sql immutable as $$
  select exists (
    select 1
    from (values
      ('staff',    'pending', 'waiting'),    -- Accept
      ('staff',    'waiting', 'live'),       -- Start session
      ('staff',    'live',    'completed'),  -- End session
      ('staff',    'waiting', 'cancelled'),
      ('customer', 'pending', 'cancelled'),
      ('customer', 'waiting', 'cancelled'),
      ('customer', 'live',    'cancelled'),
      ('customer', 'pending', 'completed'),
      ('customer', 'waiting', 'completed'),
      ('customer', 'live',    'completed')
    ) as moves (by_role, from_status, to_status)
    where moves.by_role = $1 and moves.from_status = $2 and moves.to_status = $3
  )
$$;

-- ---------------------------------------------------------------------------------------------
-- sessions
-- ---------------------------------------------------------------------------------------------

alter table public.sessions add column if not exists customer_name text;
-- Staff read "pending or mine": the status index exists (0001), this is the other half.
create index if not exists sessions_staff on public.sessions (staff_id);

create or replace function public.sessions_guard() returns trigger
language plpgsql as $$
declare
  role text := public.app_role();
  me uuid := auth.uid();
begin
  if not public.is_client() then
    return new;
  end if;

  if tg_op = 'INSERT' then
    -- Facts from the token and the clock, whatever the client sent.
    new.id := gen_random_uuid();
    new.created_at := now();
    new.updated_at := now();
    if new.customer_id is null then
      new.customer_id := me;
    elsif new.customer_id is distinct from me then
      raise exception 'new row violates row-level security policy for table "sessions": customer_id must be your own user id'
        using errcode = '42501';
    end if;
    new.customer_name := public.token_name();
    if new.status is null then
      new.status := 'pending';
    elsif new.status <> 'pending' then
      raise exception 'new row violates row-level security policy for table "sessions": a new session starts as pending'
        using errcode = '42501';
    end if;
    if new.staff_id is not null or new.staff_name is not null or new.ended_at is not null then
      raise exception 'new row violates row-level security policy for table "sessions": staff and end time are set by staff, not on request'
        using errcode = '42501';
    end if;
    return new;
  end if;

  -- UPDATE. Columns no client changes, then the ones only a claim changes.
  if new.id is distinct from old.id
     or new.customer_id is distinct from old.customer_id
     or new.customer_name is distinct from old.customer_name
     or new.kind is distinct from old.kind
     or new.topic is distinct from old.topic
     or new.created_at is distinct from old.created_at then
    raise exception 'new row violates row-level security policy for table "sessions": that column cannot be changed by this role'
      using errcode = '42501';
  end if;

  if role = 'staff' then
    if new.status is distinct from old.status
       and not public.session_may_move('staff', old.status, new.status) then
      raise exception 'new row violates row-level security policy for table "sessions": staff move sessions pending → waiting → live → completed'
        using errcode = '42501';
    end if;
    if old.status = 'pending' then
      -- Only the accept move leaves pending; it assigns the session to the caller.
      if new.status = 'pending' or new.staff_id is distinct from me then
        raise exception 'new row violates row-level security policy for table "sessions": staff act only on sessions assigned to themselves'
          using errcode = '42501';
      end if;
      new.staff_name := public.token_name();
    elsif new.staff_id is distinct from old.staff_id then
      raise exception 'new row violates row-level security policy for table "sessions": staff act only on sessions assigned to themselves'
        using errcode = '42501';
    else
      new.staff_name := old.staff_name;
    end if;
  else
    -- A customer (the update policy admits no one else) may only end an active session.
    if new.staff_id is distinct from old.staff_id or new.staff_name is distinct from old.staff_name then
      raise exception 'new row violates row-level security policy for table "sessions": that column cannot be changed by this role'
        using errcode = '42501';
    end if;
    if new.status is distinct from old.status
       and not public.session_may_move('customer', old.status, new.status) then
      raise exception 'new row violates row-level security policy for table "sessions": a customer may only end an active session'
        using errcode = '42501';
    end if;
  end if;

  -- The end time is the server's: stamped when a session ends, otherwise unchanged.
  if new.status is distinct from old.status and new.status in ('completed', 'cancelled') then
    new.ended_at := now();
  else
    new.ended_at := old.ended_at;
  end if;
  -- updated_at is set by sessions_touch, which runs after this trigger (triggers fire in
  -- name order).
  return new;
end;
$$;

drop trigger if exists sessions_guard on public.sessions;
create trigger sessions_guard before insert or update on public.sessions
  for each row execute function public.sessions_guard();

-- The policies: every rule names the role it is for, so a kiosk or a staff member is never
-- mistaken for a customer (and the other way round). `(select f())` makes Postgres evaluate
-- the token functions once per statement instead of once per row (Supabase's RLS performance
-- advice; it matters most for Realtime, which checks every change for every subscriber).
drop policy if exists sessions_customer_read on public.sessions;
create policy sessions_customer_read on public.sessions for select to authenticated
  using ((select public.app_role()) = 'customer' and customer_id = (select auth.uid()));

drop policy if exists sessions_staff_read on public.sessions;
create policy sessions_staff_read on public.sessions for select to authenticated
  using ((select public.app_role()) = 'staff' and (status = 'pending' or staff_id = (select auth.uid())));

drop policy if exists sessions_customer_insert on public.sessions;
create policy sessions_customer_insert on public.sessions for insert to authenticated
  with check ((select public.app_role()) = 'customer' and customer_id = (select auth.uid()) and status = 'pending'
              and staff_id is null and staff_name is null and ended_at is null);

-- A customer reaches their own sessions; sessions_guard decides which changes are moves.
drop policy if exists sessions_customer_update on public.sessions;
create policy sessions_customer_update on public.sessions for update to authenticated
  using ((select public.app_role()) = 'customer' and customer_id = (select auth.uid()))
  with check ((select public.app_role()) = 'customer' and customer_id = (select auth.uid()));

-- Staff reach pending sessions and their own; after the update the session is theirs.
drop policy if exists sessions_staff_update on public.sessions;
create policy sessions_staff_update on public.sessions for update to authenticated
  using ((select public.app_role()) = 'staff' and (status = 'pending' or staff_id = (select auth.uid())))
  with check ((select public.app_role()) = 'staff' and staff_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- Kiosk privacy
-- ---------------------------------------------------------------------------------------------
-- A kiosk signs in anonymously (a new user at every idle reset) and claims the session id it
-- shows with one insert here. The search endpoint keeps writing kiosk_results by session_id
-- with the service role, whoever asked for the search (the kiosk, a voice agent, a phone);
-- a trigger copies the claim's owner onto each result, and the read policy is a plain
-- `owner_id = auth.uid()`, cheap for Realtime to evaluate per change and subscriber.
-- A session id is claimed once (primary key): nobody can take over a kiosk's session, and
-- results written before any claim belong to no one.

create table if not exists public.kiosk_sessions (
  id         text primary key,
  owner_id   uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index if not exists kiosk_sessions_owner on public.kiosk_sessions (owner_id);

create or replace function public.kiosk_sessions_guard() returns trigger
language plpgsql as $$
begin
  if public.is_client() then
    new.owner_id := auth.uid();
    new.created_at := now();
  end if;
  return new;
end;
$$;

drop trigger if exists kiosk_sessions_guard on public.kiosk_sessions;
create trigger kiosk_sessions_guard before insert on public.kiosk_sessions
  for each row execute function public.kiosk_sessions_guard();

alter table public.kiosk_sessions enable row level security;

drop policy if exists kiosk_sessions_read on public.kiosk_sessions;
create policy kiosk_sessions_read on public.kiosk_sessions for select to authenticated
  using ((select public.app_role()) = 'kiosk' and owner_id = (select auth.uid()));

drop policy if exists kiosk_sessions_claim on public.kiosk_sessions;
create policy kiosk_sessions_claim on public.kiosk_sessions for insert to authenticated
  with check ((select public.app_role()) = 'kiosk' and owner_id = (select auth.uid()));

alter table public.kiosk_results add column if not exists owner_id uuid;
create index if not exists kiosk_results_owner on public.kiosk_results (owner_id, created_at);

-- Security definer: the owner comes from kiosk_sessions whoever writes the result (no client
-- may write results at all: only the search endpoint, with the service role), and the writer
-- needs no right to read the claims. A sent owner_id is never trusted.
create or replace function public.kiosk_results_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.owner_id := (select ks.owner_id from public.kiosk_sessions ks where ks.id = new.session_id);
  return new;
end;
$$;
revoke execute on function public.kiosk_results_owner() from public, anon, authenticated;

drop trigger if exists kiosk_results_owner on public.kiosk_results;
create trigger kiosk_results_owner before insert or update on public.kiosk_results
  for each row execute function public.kiosk_results_owner();

drop policy if exists kiosk_results_read on public.kiosk_results;
create policy kiosk_results_read on public.kiosk_results for select to authenticated
  using (owner_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- Grants: exactly what the rules need (Supabase's defaults grant all of it to everyone).
-- ---------------------------------------------------------------------------------------------

revoke all on public.hotels, public.events, public.kiosk_results, public.sessions,
  public.kiosk_sessions from anon, authenticated;
grant all on public.hotels, public.events, public.kiosk_results, public.sessions,
  public.kiosk_sessions to service_role;

grant select on public.hotels, public.events to anon, authenticated;
grant select on public.kiosk_results to authenticated;
grant select, insert, update on public.sessions to authenticated;
grant select, insert on public.kiosk_sessions to authenticated;

-- ---------------------------------------------------------------------------------------------
-- Realtime: the tables the app subscribes to (events: cards follow their rows, by id;
-- kiosk_results: INSERTs of one session; sessions: the banner and the staff console).
-- Default replica identity (the primary key) is what the subscriptions need: the app filters
-- deletes on `id` only, and an UPDATE's new record carries every column anyway.
-- ---------------------------------------------------------------------------------------------

alter table public.events        replica identity default;
alter table public.kiosk_results replica identity default;
alter table public.sessions      replica identity default;

do $$
declare t text;
begin
  foreach t in array array['events', 'kiosk_results', 'sessions'] loop
    if not exists (
      select 1 from pg_publication_tables
      where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = t
    ) then
      execute format('alter publication supabase_realtime add table public.%I', t);
    end if;
  end loop;
end
$$;
