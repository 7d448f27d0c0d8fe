-- Concierge 0006: private Realtime channels on hosted Supabase (issue 16). Safe to re-run.
--
-- The conversation joins `session:<id>` with `config.private: true` for Presence ("Anna is
-- here") and Broadcast (typing). Hosted Realtime decides who may join a private channel and
-- send on it with the RLS policies on `realtime.messages` (Realtime Authorization): it checks a
-- join by selecting probe rows of the topic as the user (read = receive), and a send (a
-- broadcast, a presence track) by inserting a row as the user (write = send), each with
-- `realtime.topic()` set to the topic. Without policies nobody but the service role could
-- join; this migration gives the rule concierge-server enforces (server/src/authz/channels.rs):
--   * the topic `session:<uuid>` belongs to that session's customer (`customer_id`) and to the
--     staff member holding it (`staff_id`), whatever the session's status;
--   * they may receive and send Broadcast and Presence there (one rule for both);
--   * the service role bypasses RLS, as it bypasses the local rule;
--   * nobody else: not other customers or staff, not kiosks (anonymous sign-ins: no staff
--     member holds a kiosk conversation yet), not the bare anon key, and no other private topic.
-- The case table tests/authz/cases.toml (section "Private Realtime channels") states every
-- rule, and scripts/pg-test and server/tests/authz_cases prove both sides.

-- The session a private topic names, or NULL. The id may be written in any shape the local
-- server's parser (Rust `uuid::Uuid::parse_str`) takes: hyphenated, braced, `urn:uuid:` or 32
-- hex digits, any case. Anything else is NULL, never a cast error: an error in a policy makes
-- Realtime refuse the join with a logged RlsPolicyError and fail a send outright.
create or replace function public.channel_session(topic text) returns uuid
language sql immutable set search_path = '' as $$
  select case
    when topic ~* '^session:(\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}|(urn:uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$'
    then pg_catalog.regexp_replace(pg_catalog.substr(topic, 9), '^urn:uuid:', '', 'i')::uuid
  end
$$;

-- Whether the caller may join the private channel `channel` (and so receive and send there).
-- (The parameter is not called `topic`: in the lookup that would be `sessions.topic`.)
-- Security definer so that the lookup reads the session itself, not through the caller's
-- session policies (staff see pending sessions they do not hold; the channel is only theirs
-- once they hold it), with an empty search_path as Supabase recommends for such functions.
create or replace function public.may_join_channel(channel text) returns boolean
language sql stable security definer set search_path = '' as $$
  select coalesce(public.app_role() in ('customer', 'staff'), false) and exists (
    select 1 from public.sessions s
    where s.id = public.channel_session(channel)
      and (s.customer_id = auth.uid() or s.staff_id = auth.uid()))
$$;

revoke all on function public.channel_session(text) from public, anon;
revoke all on function public.may_join_channel(text) from public, anon;
grant execute on function public.channel_session(text) to authenticated, service_role;
grant execute on function public.may_join_channel(text) to authenticated, service_role;

-- The policies. `(select ...)` makes PostgreSQL evaluate the check once per statement, not per
-- row (Supabase's RLS performance advice); the row must be of the topic being checked.
drop policy if exists session_channel_receive on realtime.messages;
create policy session_channel_receive on realtime.messages for select to authenticated
  using (extension in ('broadcast', 'presence')
    and topic = (select realtime.topic())
    and (select public.may_join_channel((select realtime.topic()))));

drop policy if exists session_channel_send on realtime.messages;
create policy session_channel_send on realtime.messages for insert to authenticated
  with check (extension in ('broadcast', 'presence')
    and topic = (select realtime.topic())
    and (select public.may_join_channel((select realtime.topic()))));
