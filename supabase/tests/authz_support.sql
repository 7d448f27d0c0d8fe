-- Test support for the authorization cases (tests/authz/cases.toml), loaded by the generated
-- pgTAP file inside its transaction (so it leaves nothing behind).
--
-- authz_test.observe(case) runs one request as the case's role with its JWT claims, the way
-- PostgREST does (`set local role`, `request.jwt.claims`), inside a subtransaction that is always
-- rolled back: every case starts from the same fixtures. It returns what happened:
--   {"outcome": "allowed" | "denied" | "unreachable" | "invalid" | "error", ...}
-- plus "visible" (fixture names) for a select, "then_have"/"then_want" for a write with `then`,
-- and "sqlstate"/"message" when the request failed.

create schema authz_test;

-- Fixture rows by table and name (the generator fills it after inserting the fixtures).
create table authz_test.fixture (
  tbl  text not null,
  name text not null,
  id   text not null,
  primary key (tbl, id)
);

-- Realtime's connection settings for a check (Realtime.Tenants.Authorization.set_conn_config):
-- the user's role, the topic, the claims, and the claims' sub and role one by one.
create function authz_test.as_realtime_user(c jsonb) returns void
language sql as $$
  select set_config('role', c ->> 'role', true),
         set_config('realtime.topic', c ->> 'topic', true),
         set_config('request.jwt.claims', (c -> 'claims')::text, true),
         set_config('request.jwt.claim.sub', c -> 'claims' ->> 'sub', true),
         set_config('request.jwt.claim.role', c ->> 'role', true),
         set_config('request.headers', '{}', true);
$$;

-- A private channel join (`do = "join"`), checked the way hosted Realtime checks it
-- (Realtime.Tenants.Authorization, supabase/realtime lib/realtime/tenants/authorization.ex):
--   receive (read): as the trusted connection, insert one probe row per extension for the
--     topic; then as the user, select them: a visible probe = may receive that extension;
--   send (write): as the user, insert a row per extension for the topic, each in its own
--     savepoint: inserted = may send, 42501 = may not, any other error is an error;
-- each check in a transaction that is rolled back. The rule book states one rule for joining
-- and sending (the local server has one), so the outcome is "allowed" when the user may
-- receive and send both Broadcast and Presence, "denied" when none of the four, and "error"
-- (which matches no case) when the policies disagree among themselves.
create function authz_test.observe_join(c jsonb) returns jsonb
language plpgsql as $$
declare
  v_topic text := c ->> 'topic';
  probes  jsonb := '{}'::jsonb;
  ext     text;
  seen    text[];
  recv    jsonb := '{}'::jsonb;
  send    jsonb := '{}'::jsonb;
  state   text;
  msg     text;
  flags   boolean[];
begin
  begin
    for ext in select unnest(array['broadcast', 'presence']) loop
      probes := probes || jsonb_build_object(ext, gen_random_uuid());
      insert into realtime.messages (id, topic, extension)
        values ((probes ->> ext)::uuid, v_topic, ext);
    end loop;
    perform authz_test.as_realtime_user(c);
    select array_agg(m.id::text) into seen from realtime.messages m
      where m.id in (select (value #>> '{}')::uuid from jsonb_each(probes));
    reset role;
    for ext in select unnest(array['broadcast', 'presence']) loop
      recv := recv || jsonb_build_object(ext, coalesce(probes ->> ext = any(seen), false));
    end loop;

    perform authz_test.as_realtime_user(c);
    for ext in select unnest(array['broadcast', 'presence']) loop
      begin
        insert into realtime.messages (topic, extension) values (v_topic, ext);
        send := send || jsonb_build_object(ext, true);
      exception when insufficient_privilege then
        send := send || jsonb_build_object(ext, false);
      end;
    end loop;
    reset role;
    raise exception using errcode = 'ZZ999', message = 'roll the checks back';
  exception
    when sqlstate 'ZZ999' then
      null;
    when others then
      get stacked diagnostics state = returned_sqlstate, msg = message_text;
      return jsonb_build_object('outcome', 'error', 'sqlstate', state, 'message', msg,
                                'receive', recv, 'send', send);
  end;
  flags := array[(recv ->> 'broadcast')::boolean, (recv ->> 'presence')::boolean,
                 (send ->> 'broadcast')::boolean, (send ->> 'presence')::boolean];
  return jsonb_build_object(
    'outcome', case when true = all(flags) then 'allowed'
                    when false = all(flags) then 'denied'
                    else 'error' end,
    'receive', recv, 'send', send);
end;
$$;

create function authz_test.observe(c jsonb) returns jsonb
language plpgsql as $$
declare
  v_tbl     text := c ->> 'table';
  act       text := c ->> 'do';
  cols      text;
  sel       text;
  n         bigint;
  ids       text[];
  after_row jsonb;
  outcome   jsonb;
  state     text;
  msg       text;
  want      jsonb;
  have      jsonb;
  literal   jsonb;
  typed     jsonb;
  sent      jsonb;
  k         text;
  v         jsonb;
begin
  if act = 'join' then
    return authz_test.observe_join(c);
  end if;
  begin
    perform set_config('request.jwt.claims', (c -> 'claims')::text, true);
    execute format('set local role %I', c ->> 'role');

    if act = 'select' then
      if c ? 'filter' then
        execute format('select array_agg(x.id::text) from public.%I x where x.%I::text = $1',
                       v_tbl, c -> 'filter' ->> 'column')
          into ids using c -> 'filter' ->> 'value';
      else
        execute format('select array_agg(x.id::text) from public.%I x', v_tbl) into ids;
      end if;
      n := coalesce(array_length(ids, 1), 0);
    elsif act = 'insert' then
      select string_agg(quote_ident(key), ', ') into cols from jsonb_object_keys(c -> 'values') key;
      execute format('insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, $1)',
                     v_tbl, cols, cols, v_tbl)
        using c -> 'values';
      get diagnostics n = row_count;
    elsif act = 'update' then
      select string_agg(format('%I = r.%I', key, key), ', ') into cols
        from jsonb_object_keys(c -> 'values') key;
      execute format('update public.%I x set %s from jsonb_populate_record(null::public.%I, $1) r where x.id::text = $2',
                     v_tbl, cols, v_tbl)
        using c -> 'values', c ->> 'target';
      get diagnostics n = row_count;
    elsif act = 'delete' then
      execute format('delete from public.%I x where x.id::text = $1', v_tbl) using c ->> 'target';
      get diagnostics n = row_count;
    else
      raise exception 'unknown action %', act;
    end if;

    -- Back to the test's own role to look at the result.
    reset role;
    if act = 'insert' then
      execute format('select to_jsonb(x) from public.%I x where x.id::text not in (select f.id from authz_test.fixture f where f.tbl = $1)', v_tbl)
        into after_row using v_tbl;
    elsif act in ('update', 'delete') then
      execute format('select to_jsonb(x) from public.%I x where x.id::text = $1', v_tbl)
        into after_row using c ->> 'target';
    end if;

    outcome := jsonb_build_object('outcome', case when act = 'select' or n > 0 then 'allowed' else 'unreachable' end);

    -- The written row's columns named by `then`, both sides normalized through the column types.
    if c ? 'then' and n > 0 and act <> 'select' then
      literal := '{}'::jsonb;
      for k, v in select * from jsonb_each(c -> 'then') loop
        if v = '"$now"'::jsonb then
          literal := literal || jsonb_build_object(k, now());
        elsif v <> '"$fresh"'::jsonb then
          literal := literal || jsonb_build_object(k, v);
        end if;
      end loop;
      execute format('select to_jsonb(jsonb_populate_record(null::public.%I, $1)), to_jsonb(jsonb_populate_record(null::public.%I, $2))', v_tbl, v_tbl)
        into typed, sent using literal, coalesce(c -> 'values', '{}'::jsonb);
      want := '{}'::jsonb;
      have := '{}'::jsonb;
      for k, v in select * from jsonb_each(c -> 'then') loop
        if v = '"$fresh"'::jsonb then
          want := want || jsonb_build_object(k, '$fresh');
          have := have || jsonb_build_object(k,
            case when after_row -> k <> 'null'::jsonb
                   and (not (c -> 'values' ? k) or after_row -> k is distinct from sent -> k)
                 then to_jsonb('$fresh'::text) else after_row -> k end);
        else
          want := want || jsonb_build_object(k, typed -> k);
          have := have || jsonb_build_object(k, coalesce(after_row -> k, 'null'::jsonb));
        end if;
      end loop;
      outcome := outcome || jsonb_build_object('then_have', have, 'then_want', want);
    end if;

    raise exception using errcode = 'ZZ999', message = 'roll the case back';
  exception
    when sqlstate 'ZZ999' then
      null;
    when others then
      get stacked diagnostics state = returned_sqlstate, msg = message_text;
      outcome := jsonb_build_object(
        'outcome', case when state = '42501' then 'denied'
                        when left(state, 2) = '23' then 'invalid'
                        else 'error' end,
        'sqlstate', state, 'message', msg);
  end;

  if act = 'select' and outcome ->> 'outcome' = 'allowed' then
    outcome := outcome || jsonb_build_object('visible', coalesce((
      select jsonb_agg(coalesce(f.name, i) order by coalesce(f.name, i))
      from unnest(ids) i left join authz_test.fixture f on f.tbl = v_tbl and f.id = i
    ), '[]'::jsonb));
  end if;
  return outcome;
end;
$$;

-- One TAP line: does what happened match the case's expectation? `want` holds "outcome" and,
-- for reads, "visible" (sorted). The failure diagnostics show both sides in full.
create function authz_test.check(have jsonb, want jsonb, description text) returns text
language plpgsql as $$
declare
  pass boolean;
begin
  pass := have ->> 'outcome' = want ->> 'outcome'
      and (not want ? 'visible' or have -> 'visible' = want -> 'visible')
      and (have -> 'then_have') is not distinct from (have -> 'then_want');
  -- PGOPTIONS='-c authz_test.explain=on' (scripts/pg-test with PG_TEST_EXPLAIN=1) shows every
  -- case's observation, not only the failures'.
  return ok(pass, description) ||
    case when pass and coalesce(current_setting('authz_test.explain', true), '') <> 'on' then ''
    else E'\n' || diag(E'    want: ' || want::text || E'\n    have: ' || have::text) end;
end;
$$;
