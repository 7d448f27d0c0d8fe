-- Concierge 0005: the conversation inside a session (issue 16). The SQLite twin is migration 6
-- in server/src/db/migrate.rs; the rules are server/src/authz/messages.rs; the case table
-- tests/authz/cases.toml (section "# messages") states every rule and scripts/pg-test proves it.
-- Safe to re-run.
--
--   * `id` is made by the sender (a retried send is the same message: a second insert of it is
--     a duplicate key, 409 / 23505, which the client treats as "sent");
--   * `session_id` names a `sessions` row, or for a kiosk conversation the kiosk's claim in
--     `kiosk_sessions` (whose ids are text): no single foreign key can say that, so clients are
--     held to it by the policies and trusted writers by `messages_guard` (23503);
--   * the server owns `created_at` and the author columns: set from the token for clients;
--   * a customer reads and writes the messages of their own sessions while they are open;
--     staff read the sessions they hold and write while open (a closed session is read-only);
--     a kiosk reads and writes the conversations of its claims; nobody updates or deletes;
--   * published to Realtime with the default replica identity, like the other tables.
--
-- The concierge's reply queue is the local server's (concierge-server's `reply_queue`): a
-- hosted project gets no automatic replies from this migration.

create table if not exists public.messages (
  id          uuid primary key default gen_random_uuid(),
  session_id  uuid not null,
  author_role text not null check (author_role in ('customer', 'staff', 'concierge')),
  author_id   uuid,
  author_name text,
  body        text not null check (char_length(body) between 1 and 2000),
  created_at  timestamptz not null default now()
);
create index if not exists messages_session on public.messages (session_id, created_at);

-- Facts from the token and the clock for clients; the reference for trusted writers.
create or replace function public.messages_guard() returns trigger
language plpgsql as $$
begin
  if public.is_client() then
    new.author_role := case when public.app_role() = 'staff' then 'staff' else 'customer' end;
    new.author_id := auth.uid();
    new.author_name := public.token_name();
    new.created_at := now();
  elsif not exists (select 1 from public.sessions s where s.id = new.session_id)
    and not exists (select 1 from public.kiosk_sessions k where k.id = new.session_id::text) then
    raise exception 'insert on table "messages" violates foreign key: session % is neither a session nor a kiosk session', new.session_id
      using errcode = '23503';
  end if;
  return new;
end;
$$;

drop trigger if exists messages_guard on public.messages;
create trigger messages_guard before insert on public.messages
  for each row execute function public.messages_guard();

alter table public.messages enable row level security;

-- Reads: through the message's session (or kiosk claim), evaluated under the caller's own
-- rules on those tables.
drop policy if exists messages_customer_read on public.messages;
create policy messages_customer_read on public.messages for select to authenticated
  using ((select public.app_role()) = 'customer' and exists (
    select 1 from public.sessions s
    where s.id = messages.session_id and s.customer_id = (select auth.uid())
      and s.status in ('pending', 'waiting', 'live')));

drop policy if exists messages_staff_read on public.messages;
create policy messages_staff_read on public.messages for select to authenticated
  using ((select public.app_role()) = 'staff' and exists (
    select 1 from public.sessions s
    where s.id = messages.session_id and s.staff_id = (select auth.uid())));

drop policy if exists messages_kiosk_read on public.messages;
create policy messages_kiosk_read on public.messages for select to authenticated
  using ((select public.app_role()) = 'kiosk' and exists (
    select 1 from public.kiosk_sessions k
    where k.id = messages.session_id::text and k.owner_id = (select auth.uid())));

-- Writes: into a conversation the caller reaches, while it is open.
drop policy if exists messages_customer_insert on public.messages;
create policy messages_customer_insert on public.messages for insert to authenticated
  with check ((select public.app_role()) = 'customer' and author_id = (select auth.uid()) and exists (
    select 1 from public.sessions s
    where s.id = messages.session_id and s.customer_id = (select auth.uid())
      and s.status in ('pending', 'waiting', 'live')));

drop policy if exists messages_staff_insert on public.messages;
create policy messages_staff_insert on public.messages for insert to authenticated
  with check ((select public.app_role()) = 'staff' and author_id = (select auth.uid()) and exists (
    select 1 from public.sessions s
    where s.id = messages.session_id and s.staff_id = (select auth.uid())
      and s.status in ('pending', 'waiting', 'live')));

drop policy if exists messages_kiosk_insert on public.messages;
create policy messages_kiosk_insert on public.messages for insert to authenticated
  with check ((select public.app_role()) = 'kiosk' and author_id = (select auth.uid()) and exists (
    select 1 from public.kiosk_sessions k
    where k.id = messages.session_id::text and k.owner_id = (select auth.uid())));

-- Grants: read and write; no updates or deletes for clients.
revoke all on public.messages from anon, authenticated;
grant all on public.messages to service_role;
grant select, insert on public.messages to authenticated;

-- Realtime: the conversation appears live on every client.
alter table public.messages replica identity default;

do $$
begin
  if not exists (
    select 1 from pg_publication_tables
    where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'messages'
  ) then
    alter publication supabase_realtime add table public.messages;
  end if;
end
$$;
