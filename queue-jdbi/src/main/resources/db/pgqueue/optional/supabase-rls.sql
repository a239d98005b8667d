-- pgqueue, optional: row-level security for Supabase. Run it in the SQL editor after the
-- migrations (in the schema of your job_queue, public by default), and again after every pgqueue
-- upgrade (a new version may add tables or functions). Running it again changes nothing.
--
-- A signed-in user (role authenticated) sees only the jobs whose user_id is their own auth.uid(),
-- for example to show the progress of their image generation from the browser; that is all anon and
-- authenticated may do with pgqueue. Supabase grants both roles every privilege on every new table,
-- sequence and function in public by default (and PostgreSQL lets PUBLIC execute every function);
-- this takes all of it back, for every pgqueue object in this schema (named job_queue… or
-- pgqueue_…, whichever migration or script created it): they cannot read, enqueue, change, cancel,
-- delete or truncate jobs, dependencies, limits or the migration history, nor call any pgqueue
-- function. Row-level security is on for every pgqueue table, so a grant added by mistake later
-- still shows no row to them (only job_queue has a policy for them).
--
-- Workers and server-side producers are not affected: they connect as postgres (the tables' owner)
-- or service_role (BYPASSRLS, granted every pgqueue object here), e.g. through the pooler's session
-- mode. Any other role needs its own grants now that PUBLIC has none.

DO
$$
DECLARE
    obj record;
    has_service_role boolean := EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'service_role');
BEGIN
    FOR obj IN
        SELECT CAST(c.oid AS pg_catalog.regclass) AS name, c.relkind
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema())
           AND (c.relname LIKE 'job\_queue%' OR c.relname LIKE 'pgqueue\_%')
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    LOOP
        IF obj.relkind = 'S' THEN
            EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC, anon, authenticated', obj.name);
            IF has_service_role THEN
                EXECUTE format('GRANT ALL ON SEQUENCE %s TO service_role', obj.name);
            END IF;
        ELSE
            EXECUTE format('REVOKE ALL ON TABLE %s FROM PUBLIC, anon, authenticated', obj.name);
            IF has_service_role THEN
                EXECUTE format('GRANT ALL ON TABLE %s TO service_role', obj.name);
            END IF;
        END IF;
        IF obj.relkind IN ('r', 'p') THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', obj.name);
        END IF;
    END LOOP;

    -- Functions (trigger functions included: a trigger fires whatever its function's grants are).
    FOR obj IN
        SELECT CAST(p.oid AS pg_catalog.regprocedure) AS name
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema())
           AND (p.proname LIKE 'job\_queue%' OR p.proname LIKE 'pgqueue\_%')
    LOOP
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, anon, authenticated', obj.name);
        IF has_service_role THEN
            EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO service_role', obj.name);
        END IF;
    END LOOP;
END
$$;

-- The one thing left to them: a signed-in user reads their own jobs.
GRANT SELECT ON TABLE job_queue TO authenticated;
DROP POLICY IF EXISTS job_queue_select_own ON job_queue;
-- (SELECT auth.uid()) is evaluated once per statement, not once per row.
CREATE POLICY job_queue_select_own ON job_queue FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
