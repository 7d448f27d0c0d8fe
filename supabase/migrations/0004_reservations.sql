-- Reservations with live capacity (issue 17): "4 places left", true on every kiosk, never
-- overbooked. The twin of concierge-server's SQLite migration 6 (server/src/db/migrate.rs),
-- its writer (server/src/db/writer/booking.rs) and its rules (server/src/authz/reservations.rs);
-- the bounds are crates/wire/src/reservation.rs'. Safe to re-run.
--
--   * events.capacity (NULL = no booking) and events.places_left, which only the server keeps:
--     a trigger derives it (capacity minus the confirmed parties) on every insert and update of
--     an event, whoever writes, so a value sent by anyone is ignored.
--   * public.reservations: read by staff only (guests' names and rooms); written only through
--     reserve() and cancel_reservation(), security definer functions that lock the event row
--     (`select … for update`), so concurrent bookings queue on it and none overbooks.
--   * Refusals: SQLSTATE P0001 (PostgREST: 400) for a rule, P0002 (404) for an unknown row,
--     42501 (401/403) for a caller who may not cancel; the same messages as the local server.

alter table public.events add column if not exists capacity int
  check (capacity is null or capacity >= 0);
alter table public.events add column if not exists places_left int
  check (places_left is null or places_left >= 0);

create table if not exists public.reservations (
  id         uuid primary key default gen_random_uuid(),
  event_id   uuid not null references public.events (id) on delete cascade,
  guest_name text not null check (char_length(btrim(guest_name)) between 1 and 120),
  room       text not null check (char_length(btrim(room)) between 1 and 20),
  party_size int  not null check (party_size between 1 and 10),
  status     text not null default 'confirmed' check (status in ('confirmed', 'cancelled')),
  created_at timestamptz not null default now()
);
create index if not exists reservations_event on public.reservations (event_id, status);
create index if not exists reservations_created on public.reservations (created_at);
alter table public.reservations enable row level security;

-- ---------------------------------------------------------------------------------------------
-- places_left: derived, never trusted
-- ---------------------------------------------------------------------------------------------

create or replace function public.events_places_left() returns trigger
language plpgsql security definer
set search_path = public, pg_temp
as $$
begin
  if new.capacity is null then
    new.places_left := null;
  else
    new.places_left := greatest(new.capacity - coalesce(
      (select sum(r.party_size) from public.reservations r
       where r.event_id = new.id and r.status = 'confirmed'), 0), 0);
  end if;
  return new;
end
$$;
revoke execute on function public.events_places_left() from public, anon, authenticated;

drop trigger if exists events_places_left on public.events;
create trigger events_places_left before insert or update on public.events
  for each row execute function public.events_places_left();

-- ---------------------------------------------------------------------------------------------
-- Booking and cancelling
-- ---------------------------------------------------------------------------------------------

-- The parameter names are the JSON keys supabase-js `.rpc('reserve', {...})` sends.
create or replace function public.reserve(event_id uuid, guest_name text, room text, party_size int)
returns jsonb
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  v_name text := btrim(reserve.guest_name);
  v_room text := btrim(reserve.room);
  ev     public.events%rowtype;
  r      public.reservations%rowtype;
  v_left int;
begin
  if reserve.party_size is null or reserve.party_size not between 1 and 10 then
    raise exception 'party size must be between 1 and 10' using errcode = 'P0001';
  end if;
  if v_name is null or char_length(v_name) not between 1 and 120 then
    raise exception 'guest name must be 1 to 120 characters' using errcode = 'P0001';
  end if;
  if v_room is null or char_length(v_room) not between 1 and 20 then
    raise exception 'room must be 1 to 20 characters' using errcode = 'P0001';
  end if;
  -- The row lock: a concurrent booking of the same event waits here and then reads the
  -- places this one left.
  select e.* into ev from public.events e where e.id = reserve.event_id for update;
  if not found then
    raise exception 'unknown event' using errcode = 'P0002';
  end if;
  if ev.capacity is null then
    raise exception 'event is not bookable' using errcode = 'P0001';
  end if;
  if ev.starts_at <= now() then
    raise exception 'event has started' using errcode = 'P0001';
  end if;
  if coalesce(ev.places_left, 0) < reserve.party_size then
    raise exception 'no places left' using errcode = 'P0001',
      detail = format('%s places left, %s asked', coalesce(ev.places_left, 0), reserve.party_size);
  end if;
  insert into public.reservations as x (event_id, guest_name, room, party_size, status)
    values (ev.id, v_name, v_room, reserve.party_size, 'confirmed')
    returning x.* into r;
  -- The trigger derives the new value (capacity minus the confirmed parties, this one
  -- included); the UPDATE is what realtime publishes to every kiosk.
  update public.events e set places_left = e.places_left - reserve.party_size
    where e.id = ev.id
    returning e.places_left into v_left;
  return jsonb_build_object('id', r.id, 'event_id', r.event_id, 'party_size', r.party_size,
    'status', r.status, 'created_at', r.created_at, 'places_left', v_left);
end
$$;

create or replace function public.cancel_reservation(reservation_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  r      public.reservations%rowtype;
  v_left int;
begin
  if auth.role() is distinct from 'service_role' and not public.is_staff() then
    raise exception 'permission denied for function cancel_reservation' using errcode = '42501';
  end if;
  select x.* into r from public.reservations x
    where x.id = cancel_reservation.reservation_id for update;
  if not found then
    raise exception 'unknown reservation' using errcode = 'P0002';
  end if;
  if r.status = 'cancelled' then
    raise exception 'reservation is already cancelled' using errcode = 'P0001';
  end if;
  -- The event's lock serialises this with the bookings of the same event.
  perform 1 from public.events e where e.id = r.event_id for update;
  update public.reservations x set status = 'cancelled' where x.id = r.id returning x.* into r;
  update public.events e set places_left = e.places_left + r.party_size
    where e.id = r.event_id
    returning e.places_left into v_left;
  return jsonb_build_object('id', r.id, 'event_id', r.event_id, 'party_size', r.party_size,
    'status', r.status, 'created_at', r.created_at, 'places_left', v_left);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants and policies
-- ---------------------------------------------------------------------------------------------

revoke all on public.reservations from anon, authenticated;
grant all on public.reservations to service_role;
grant select on public.reservations to authenticated;

drop policy if exists reservations_staff_read on public.reservations;
create policy reservations_staff_read on public.reservations for select to authenticated
  using ((select public.app_role()) = 'staff');

revoke execute on function public.reserve(uuid, text, text, int) from public;
grant execute on function public.reserve(uuid, text, text, int) to anon, authenticated, service_role;
revoke execute on function public.cancel_reservation(uuid) from public, anon;
grant execute on function public.cancel_reservation(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Realtime: staff watch the reservations; every kiosk watches events (places_left).
-- ---------------------------------------------------------------------------------------------

alter table public.reservations replica identity default;

do $$
begin
  if not exists (
    select 1 from pg_publication_tables
    where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'reservations'
  ) then
    alter publication supabase_realtime add table public.reservations;
  end if;
end
$$;
