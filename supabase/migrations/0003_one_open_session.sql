-- A customer has at most one open session (pending, waiting or live) at a time: the product's
-- own rule (issue 14, Medium 8), so one customer cannot flood the staff queue. The local
-- server enforces the same rule on its writer thread (server/src/db/writer/open_session.rs).
--
-- An AFTER trigger, not a BEFORE one: it runs after the row-level security check, so a
-- request refused by a policy is still refused as 42501, and only an otherwise allowed
-- request meets this rule. Trusted callers (service_role, migrations, the dashboard) are not
-- held to it, as with the guard triggers of 0002. A per-customer advisory lock makes two
-- concurrent requests of one customer see each other.

create or replace function public.sessions_one_open() returns trigger
language plpgsql as $$
begin
  if not public.is_client() or new.status not in ('pending', 'waiting', 'live') then
    return null;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('sessions_one_open:' || new.customer_id::text, 0));
  if (select count(*) from public.sessions
      where customer_id = new.customer_id and status in ('pending', 'waiting', 'live')) > 1 then
    raise exception 'a customer may have only one open session at a time (pending, waiting or live): end it before requesting another'
      using errcode = '23505';
  end if;
  return null;
end
$$;

drop trigger if exists sessions_one_open on public.sessions;
create trigger sessions_one_open
  after insert on public.sessions
  for each row execute function public.sessions_one_open();
