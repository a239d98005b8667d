-- pgqueue V11: V6's admin views and functions taken back from Supabase's API roles.
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator, in the schema of your job_queue (the first schema on search_path). Running it again
-- changes nothing. Safe during a rolling upgrade: it changes rights only, and no worker connects as
-- anon or authenticated.
--
-- Why: Supabase's default privileges grant anon and authenticated every privilege on every new table,
-- view and function in the schema as it is created. supabase-rls.sql takes that back, but only when
-- the project runs it again after an upgrade. Until then, a project that upgraded to V6 left
-- job_queue_stats and job_queue_failure_groups readable by anon and authenticated, and a view runs with
-- its owner's rights, not the reader's: every queue's counts and the first line of every failed job's
-- error, whoever's job it was, were readable with the public API key. V6's functions run with their
-- caller's rights (and the API roles hold no right on job_queue to act through them), but they are
-- taken back as well. V7 does the same for its own objects; later migrations do it for theirs.
-- Nothing happens where the roles do not exist. Grants a project gave these roles on purpose on
-- other objects are left alone.

DO
$$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON TABLE job_queue_stats, job_queue_failure_groups FROM %I', r);
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION job_queue_retry(uuid[], text),'
                                      ' job_queue_cancel_jobs(uuid[], text), job_queue_delete_jobs(uuid[]) FROM %I', r);
        END IF;
    END LOOP;
END
$$;
