-- pgqueue V12: job_queue_history_append, the one definition of how an entry joins a job's attempt
-- history (V6's job_queue.history: the latest 20 entries, oldest first). Every outcome statement that
-- records an entry (fail, retry, rescue, cancel, release, snooze, payload edit) calls it.
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Safe during a rolling upgrade: it only adds a function. Workers of earlier versions write the same
-- entries with the expression this function holds.
--
-- Functions written here call built-ins as pg_catalog.<name> and compare with OPERATOR(pg_catalog.<op>),
-- so that no function or operator another role creates in this schema can stand in for them.

-- history with the entry {attempt, at, kind, message, worker} appended, dropping the oldest entry when
-- it already holds 20. A NULL history counts as empty. It reads no table and runs with its caller's
-- rights, like job_queue_channel(): executable by PUBLIC unless roles.sql or supabase-rls.sql took that
-- back. STABLE, not IMMUTABLE: a timestamptz becomes JSON in the session's time zone.
CREATE OR REPLACE FUNCTION job_queue_history_append(history jsonb, attempt integer, happened_at timestamptz,
                                                    kind text, message text, worker text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$
SELECT CASE WHEN pg_catalog.jsonb_array_length(coalesce(history, CAST('[]' AS jsonb))) OPERATOR(pg_catalog.>=) 20
            THEN history OPERATOR(pg_catalog.-) 0 ELSE coalesce(history, CAST('[]' AS jsonb)) END
       OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
           'attempt', attempt, 'at', happened_at, 'kind', kind, 'message', message, 'worker', worker))
$$;

DO
$$
BEGIN
    EXECUTE pg_catalog.format('ALTER FUNCTION job_queue_history_append(jsonb, integer, timestamptz, text, text, text)'
                              ' SET search_path = %I, pg_temp', pg_catalog.current_schema());
END
$$;

COMMENT ON FUNCTION job_queue_history_append(jsonb, integer, timestamptz, text, text, text) IS
    'pgqueue: a job''s attempt history with one entry appended (the latest 20 kept)';

-- ---- rights --------------------------------------------------------------------------------------

-- Supabase's default privileges grant a new function to anon and authenticated: take that back where
-- they exist, as supabase-rls.sql would. Where roles.sql was run in this schema (pgqueue_worker may
-- update job_queue), the worker may execute it, as roles.sql grants every pgqueue function: its
-- outcome statements call it, and supabase-rls.sql takes PUBLIC's right away.
DO
$$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION job_queue_history_append(jsonb, integer, timestamptz, text, text, text)'
                                      ' FROM %I', r);
        END IF;
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CAST('pgqueue_worker' AS name))
       AND pg_catalog.has_table_privilege(CAST('pgqueue_worker' AS name),
                                          CAST(pg_catalog.format('%I.job_queue', pg_catalog.current_schema()) AS text),
                                          'UPDATE') THEN
        GRANT EXECUTE ON FUNCTION job_queue_history_append(jsonb, integer, timestamptz, text, text, text) TO pgqueue_worker;
    END IF;
END
$$;
