-- pgqueue, optional: row-level security for Supabase. Run it in the SQL editor after the
-- migrations (in the schema of your job_queue, public by default). Running it again changes nothing.
--
-- A signed-in user (role authenticated) sees only the jobs whose user_id is their own auth.uid(),
-- for example to show the progress of their image generation from the browser; they cannot enqueue,
-- change, cancel or delete jobs, and the anon role sees nothing. Supabase grants both roles every
-- privilege on new tables in public by default; this takes those back.
--
-- Workers and server-side producers are not affected: they connect as postgres (the table's owner)
-- or service_role (BYPASSRLS), e.g. through the pooler's session mode.

ALTER TABLE job_queue ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE job_queue FROM anon, authenticated;
GRANT SELECT ON TABLE job_queue TO authenticated;
-- Not from PUBLIC: service_role calls it (e.g. supabase.rpc('job_queue_enqueue', …) from a server).
-- For anon and authenticated it would fail anyway: it runs with their privileges, which no longer
-- include INSERT on job_queue.
REVOKE ALL ON FUNCTION job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)
    FROM anon, authenticated;
DO
$$
BEGIN
    IF to_regclass('pgqueue_schema_history') IS NOT NULL THEN
        REVOKE ALL ON TABLE pgqueue_schema_history FROM PUBLIC, anon, authenticated;
    END IF;
END
$$;

DROP POLICY IF EXISTS job_queue_select_own ON job_queue;
-- (SELECT auth.uid()) is evaluated once per statement, not once per row.
CREATE POLICY job_queue_select_own ON job_queue FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
