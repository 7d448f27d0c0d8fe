-- Concierge schema for a hosted Supabase project (the same tables concierge-server keeps in
-- SQLite; see server/src/db/migrate.rs; who may read and write what: README.md, "Who sees what").
-- Apply with `supabase db push` or paste into the SQL editor.

create extension if not exists pgcrypto;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table if not exists public.hotels (
  id        text primary key,
  name      text not null,
  latitude  float8,
  longitude float8,
  timezone  text not null
);

create table if not exists public.events (
  id               uuid primary key default gen_random_uuid(),
  hotel_id         text not null,
  title            text not null,
  category         text not null,
  description      text,
  venue            text,
  starts_at        timestamptz not null,
  ends_at          timestamptz,
  price_text       text,
  distance_km      float8,
  is_hotel_service bool not null default false,
  image_url        text,
  booking_url      text,
  updated_at       timestamptz not null default now()
);
create index if not exists events_hotel_starts on public.events (hotel_id, starts_at);

create table if not exists public.kiosk_results (
  id         uuid primary key default gen_random_uuid(),
  session_id text not null,
  results    jsonb not null,
  created_at timestamptz not null default now()
);
create index if not exists kiosk_results_session on public.kiosk_results (session_id, created_at);

create table if not exists public.sessions (
  id          uuid primary key default gen_random_uuid(),
  customer_id uuid not null,
  status      text not null check (status in ('pending', 'waiting', 'live', 'completed', 'cancelled')),
  kind        text not null check (kind in ('chat', 'video', 'concierge')),
  staff_id    uuid,
  staff_name  text,
  topic       text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  ended_at    timestamptz
);
create index if not exists sessions_customer on public.sessions (customer_id);
create index if not exists sessions_status on public.sessions (status);

-- updated_at on every update (concierge-server does this in its write path).
create or replace function public.touch_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

drop trigger if exists events_touch on public.events;
create trigger events_touch before update on public.events
  for each row execute function public.touch_updated_at();
drop trigger if exists sessions_touch on public.sessions;
create trigger sessions_touch before update on public.sessions
  for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Row-level security (mirrors server/src/authz.rs)
-- ---------------------------------------------------------------------------------------------

alter table public.hotels        enable row level security;
alter table public.events        enable row level security;
alter table public.kiosk_results enable row level security;
alter table public.sessions      enable row level security;

-- The catalogue is public.
drop policy if exists hotels_read on public.hotels;
create policy hotels_read on public.hotels for select to anon, authenticated using (true);
drop policy if exists events_read on public.events;
create policy events_read on public.events for select to anon, authenticated using (true);

-- Kiosk results: the kiosk reads the results of the session id it holds. A random UUID v4 is
-- the capability; Postgres policies cannot require the query to filter on it (the local server
-- does refuse unfiltered reads), so exposure is limited to recent rows, which hold no personal
-- data. Writes come only from the search endpoint, with the service role (bypasses RLS).
drop policy if exists kiosk_results_read on public.kiosk_results;
create policy kiosk_results_read on public.kiosk_results for select to anon, authenticated
  using (created_at > now() - interval '1 day');

-- Sessions. Staff carry app_metadata.role = 'staff' (set only by the server / service role).
create or replace function public.is_staff() returns boolean
language sql stable as $$
  select coalesce(auth.jwt() -> 'app_metadata' ->> 'role', '') = 'staff'
$$;

drop policy if exists sessions_customer_read on public.sessions;
create policy sessions_customer_read on public.sessions for select to authenticated
  using (customer_id = auth.uid());

drop policy if exists sessions_staff_read on public.sessions;
create policy sessions_staff_read on public.sessions for select to authenticated
  using (public.is_staff() and (status = 'pending' or staff_id = auth.uid()));

drop policy if exists sessions_customer_insert on public.sessions;
create policy sessions_customer_insert on public.sessions for insert to authenticated
  with check (not public.is_staff() and customer_id = auth.uid() and status = 'pending'
              and staff_id is null and staff_name is null and ended_at is null);

-- A customer may only end their own active session.
drop policy if exists sessions_customer_update on public.sessions;
create policy sessions_customer_update on public.sessions for update to authenticated
  using (customer_id = auth.uid() and status in ('pending', 'waiting', 'live'))
  with check (customer_id = auth.uid() and status in ('pending', 'waiting', 'live', 'completed', 'cancelled'));

-- Staff accept pending sessions (assigning themselves) and move their own along.
drop policy if exists sessions_staff_update on public.sessions;
create policy sessions_staff_update on public.sessions for update to authenticated
  using (public.is_staff() and (status = 'pending' or staff_id = auth.uid()))
  with check (public.is_staff() and staff_id = auth.uid());

grant select on public.hotels, public.events, public.kiosk_results to anon, authenticated;
grant select, insert, update on public.sessions to authenticated;

-- ---------------------------------------------------------------------------------------------
-- Realtime
-- ---------------------------------------------------------------------------------------------

alter publication supabase_realtime add table public.events, public.kiosk_results, public.sessions;
