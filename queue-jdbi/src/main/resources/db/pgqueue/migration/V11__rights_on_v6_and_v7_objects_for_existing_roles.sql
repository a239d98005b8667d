-- pgqueue V11: the rights on V6's and V7's objects that an upgrade left wrong for roles that existed
-- before it: Supabase's API roles had too many, pgqueue_worker too few.
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator, in the schema of your job_queue (the first schema on search_path). Running it again
-- changes nothing. Safe during a rolling upgrade: it changes rights only (and adds two policies that
-- roles.sql adds), and takes nothing from a role a worker or producer uses.
--
-- Nothing here applies where the roles do not exist. Grants a project gave on purpose to other
-- objects are left alone. From V11 on, a migration that adds an object does the same for its own.

-- ---- Supabase: anon and authenticated ------------------------------------------------------------

-- Supabase's default privileges grant anon and authenticated every privilege on every new table, view
-- and function in the schema as it is created. supabase-rls.sql takes that back, but only when the
-- project runs it again after an upgrade. Until then, a project that upgraded to V6 left
-- job_queue_stats and job_queue_failure_groups readable by both, and a view runs with its owner's
-- rights, not the reader's: every queue's counts and the first line of every failed job's error,
-- whoever's job it was, were readable with the public API key. V6's functions run with their caller's
-- rights (and the API roles hold no right on job_queue to act through them) but go as well. V7 did
-- this for its own objects.
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

-- ---- least privilege: pgqueue_worker (db/pgqueue/optional/roles.sql) ---------------------------------

-- A deployment that ran roles.sql before V7 and did not run it again after upgrading left its workers
-- without rights on the registry and the paused queues: they could not register or see a pause, and
-- their rescue of expired leases (which reads the registry) failed every time, so a crashed worker's
-- jobs stayed processing. Where roles.sql was run in this schema (pgqueue_worker may update
-- job_queue), grant what today's roles.sql grants on V6's and V7's objects.
DO
$$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CAST('pgqueue_worker' AS name))
       AND pg_catalog.has_table_privilege(CAST('pgqueue_worker' AS name),
                                          CAST(pg_catalog.format('%I.job_queue', pg_catalog.current_schema()) AS text),
                                          'UPDATE') THEN
        GRANT SELECT ON TABLE job_queue_stats, job_queue_failure_groups TO pgqueue_worker;
        GRANT EXECUTE ON FUNCTION job_queue_retry(uuid[], text), job_queue_cancel_jobs(uuid[], text),
                                  job_queue_delete_jobs(uuid[]), job_queue_pause(text), job_queue_resume(text)
            TO pgqueue_worker;
        GRANT SELECT ON TABLE job_queue_queue TO pgqueue_worker;
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE job_queue_worker TO pgqueue_worker;
        GRANT SELECT ON TABLE job_queue_workers TO pgqueue_worker;
        -- For where row-level security is on for every pgqueue table (after supabase-rls.sql).
        DROP POLICY IF EXISTS job_queue_queue_worker_read ON job_queue_queue;
        CREATE POLICY job_queue_queue_worker_read ON job_queue_queue FOR SELECT TO pgqueue_worker USING (true);
        DROP POLICY IF EXISTS job_queue_worker_worker_all ON job_queue_worker;
        CREATE POLICY job_queue_worker_worker_all ON job_queue_worker FOR ALL TO pgqueue_worker
            USING (true) WITH CHECK (true);
    END IF;
END
$$;
