-- Rows a deployment made under 0001 alone, inserted by scripts/pg-test after 0001 and before the
-- later migrations, so the suite proves those migrations apply over existing data (and
-- supabase/tests/upgrade.sql checks what became of the rows).
insert into public.sessions (id, customer_id, status, kind, topic)
values ('0d000000-0000-4000-8000-000000000001', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'live', 'chat', 'from 0001');

insert into public.kiosk_results (id, session_id, results)
values ('0d000000-0000-4000-8000-000000000002', 'legacy-kiosk-session', '{"events": []}');
