-- pgqueue V6: the admin API's SQL (docs/admin.md): a bounded attempt history on every job, an index
-- of failed jobs for the dead-letter view, functions that retry, cancel and delete jobs by id, and
-- the views job_queue_stats and job_queue_failure_groups. Part of pgqueue's public SQL contract.
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Safe during a rolling upgrade: the new column is nullable without a default (no table rewrite);
-- workers of the previous version neither read nor write it, so the jobs they finish simply get no
-- history entry. Building job_queue_failed_idx reads the table once under the migration's lock
-- (only failed rows enter it); on a very large job_queue, create it beforehand with
-- CREATE INDEX CONCURRENTLY (the same definition) and this skips it.
--
-- Rights: the functions and views are for operators. Nothing here is granted to PUBLIC: the owner
-- may use them, roles.sql grants them to pgqueue_worker (which may change any job anyway), and every
-- function runs with its caller's rights (SECURITY INVOKER), so a role can do through them only what
-- it could do with UPDATE and DELETE on job_queue.

-- ---- the attempt history -------------------------------------------------------------------------

-- A JSON array, oldest first, of at most 20 entries (the oldest is dropped when a 21st comes):
--   {"attempt": 3, "at": "...", "kind": "retried", "message": "...", "worker": "..."}
-- kind: retried (a failed attempt with retries left), failed (the job failed for good), cancelled,
-- admin-retry (an operator retried it), released (a workflow job waiting again because the job whose
-- failure cancelled it was retried), payload-edited. Appended by the statements that record those
-- outcomes; a job that completes at its first attempt never gets one (NULL), so the hot path writes
-- nothing more for it.
ALTER TABLE job_queue ADD COLUMN IF NOT EXISTS history jsonb;
COMMENT ON COLUMN job_queue.history IS
    'attempt history, oldest first, at most 20 entries: {attempt, at, kind, message, worker}; NULL = none';

-- Serves the admin API's pages of failed jobs (JdbiJobAdmin.find: newest or oldest first by
-- created_at, id, keyset-paged, read in index order instead of sorting every failed job), their
-- count, and the dead-letter view (job_queue_failure_groups, JdbiJobAdmin.failureGroups), which reads
-- the failed rows through it. Only failed rows enter it, so it costs nothing to jobs that complete.
CREATE INDEX IF NOT EXISTS job_queue_failed_idx
    ON job_queue (created_at, id) WHERE status = 'failed';

-- ---- retry ---------------------------------------------------------------------------------------

-- Retries the failed and cancelled jobs among ids (others are left alone, and so is a job another
-- transaction holds locked at that moment): each is pending and due now (or waiting again, if it is a
-- workflow job some of whose dependencies have not finished yet), its retry_count is 0 again (it gets
-- its max_retries again), its attempt count and history are kept and an 'admin-retry' entry, with
-- note, is added. Its error_message is cleared (the history keeps it). Workflow jobs that its failure
-- or cancellation cancelled ("cancelled: its dependency <type>/<id> failed") wait for it again, and
-- their dependents that were cancelled with them too, provided no other dependency of theirs failed
-- or was cancelled: "retry from the failed node". Wakes the workers of every queue that got a
-- pending job, as an insert does. Returns how many jobs it retried. Example:
--   SELECT job_queue_retry(ARRAY(SELECT id FROM job_queue WHERE status = 'failed' AND job_type = 'send-mail' LIMIT 1000));
CREATE OR REPLACE FUNCTION job_queue_retry(ids uuid[], note text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    retried   uuid[];
    reasons   text[];
    released  uuid[];
    kept      integer;
    retried_n integer;
BEGIN
    -- The jobs to retry, locked, with the messages their failure left on the dependents it cancelled.
    SELECT pg_catalog.array_agg(l.id ORDER BY l.id),
           pg_catalog.array_agg(pg_catalog.format('cancelled: its dependency %s/%s %s', l.job_type, l.id,
                                       CASE WHEN l.status OPERATOR(pg_catalog.=) CAST('failed' AS text)
                                            THEN 'failed' ELSE 'was cancelled' END))
      INTO retried, reasons
      FROM (SELECT j.id, j.job_type, j.status
              FROM job_queue j
             WHERE j.id OPERATOR(pg_catalog.=) ANY (job_queue_retry.ids)
               AND j.status OPERATOR(pg_catalog.=) ANY (CAST('{failed,cancelled}' AS text[]))
             ORDER BY j.id
               FOR UPDATE SKIP LOCKED) l;
    IF retried IS NULL THEN
        RETURN 0;
    END IF;

    -- Their cancelled dependents, transitively, that the cascade cancelled because of them (every job
    -- of one cascade carries the same message, naming the job that started it).
    WITH RECURSIVE cascade (id) AS (
             SELECT e.job_id
               FROM job_queue_dependency e
               JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
              WHERE e.depends_on OPERATOR(pg_catalog.=) ANY (retried)
                AND d.status OPERATOR(pg_catalog.=) CAST('cancelled' AS text)
                AND d.error_message OPERATOR(pg_catalog.=) ANY (reasons)
             UNION
             SELECT n.job_id
               FROM cascade x
              CROSS JOIN LATERAL (
                     SELECT e.job_id
                       FROM job_queue_dependency e
                       JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
                      WHERE e.depends_on OPERATOR(pg_catalog.=) x.id
                        AND d.status OPERATOR(pg_catalog.=) CAST('cancelled' AS text)
                        AND d.error_message OPERATOR(pg_catalog.=) ANY (reasons)
                     OFFSET 0) n)
    SELECT pg_catalog.array_agg(c.id) INTO released FROM cascade c;

    -- Keep only those whose every dependency has completed, is unfinished, or is retried or released
    -- here: one that also waited for a job that failed on its own would wait forever.
    LOOP
        EXIT WHEN released IS NULL;
        kept := pg_catalog.cardinality(released);
        SELECT pg_catalog.array_agg(r) INTO released
          FROM pg_catalog.unnest(released) r
         WHERE NOT EXISTS (
                 SELECT
                   FROM job_queue_dependency e
                   JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.depends_on
                  WHERE e.job_id OPERATOR(pg_catalog.=) r
                    AND d.status OPERATOR(pg_catalog.=) ANY (CAST('{failed,cancelled}' AS text[]))
                    AND NOT d.id OPERATOR(pg_catalog.=) ANY (retried)
                    AND NOT d.id OPERATOR(pg_catalog.=) ANY (released));
        EXIT WHEN released IS NULL OR pg_catalog.cardinality(released) OPERATOR(pg_catalog.=) kept;
    END LOOP;
    -- A job both retried and released is retried (below), once.
    SELECT pg_catalog.array_agg(r) INTO released
      FROM pg_catalog.unnest(released) r
     WHERE NOT r OPERATOR(pg_catalog.=) ANY (retried);

    -- Released jobs wait again: for every dependency not completed (the retried and released ones
    -- among them). Done before the retry below, which counts them as unfinished for a retried job.
    IF released IS NOT NULL THEN
        WITH locked AS (
                 SELECT d.id FROM job_queue d
                  WHERE d.id OPERATOR(pg_catalog.=) ANY (released)
                  ORDER BY d.id
                    FOR UPDATE)
        UPDATE job_queue d
           SET status = 'waiting',
               has_dependents = d.has_dependents OR EXISTS (
                                    SELECT FROM job_queue_dependency x WHERE x.depends_on OPERATOR(pg_catalog.=) d.id),
               waiting_for = (SELECT pg_catalog.count(*)
                                FROM job_queue_dependency e
                                JOIN job_queue p ON p.id OPERATOR(pg_catalog.=) e.depends_on
                               WHERE e.job_id OPERATOR(pg_catalog.=) d.id
                                 AND p.status OPERATOR(pg_catalog.<>) CAST('completed' AS text)),
               completed_at = NULL,
               history = CASE WHEN pg_catalog.jsonb_array_length(coalesce(d.history, CAST('[]' AS jsonb))) OPERATOR(pg_catalog.>=) 20
                              THEN d.history OPERATOR(pg_catalog.-) 0 ELSE coalesce(d.history, CAST('[]' AS jsonb)) END
                         OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                             'attempt', d.attempt, 'at', pg_catalog.now(), 'kind', 'released',
                             'message', pg_catalog.concat('waiting again (was: ', d.error_message, ')'), 'worker', NULL)),
               error_message = NULL
          FROM locked
         WHERE d.id OPERATOR(pg_catalog.=) locked.id;
    END IF;

    WITH done AS (
             UPDATE job_queue j
                SET status = CASE WHEN j.waiting_for IS NOT NULL AND EXISTS (
                                           SELECT
                                             FROM job_queue_dependency e
                                             JOIN job_queue p ON p.id OPERATOR(pg_catalog.=) e.depends_on
                                            WHERE e.job_id OPERATOR(pg_catalog.=) j.id
                                              AND (p.status OPERATOR(pg_catalog.=) ANY (CAST('{waiting,pending,processing}' AS text[]))
                                                   OR p.id OPERATOR(pg_catalog.=) ANY (retried)))
                                  THEN 'waiting' ELSE 'pending' END,
                    waiting_for = CASE WHEN j.waiting_for IS NULL THEN NULL ELSE (
                                           SELECT pg_catalog.count(*)
                                             FROM job_queue_dependency e
                                             JOIN job_queue p ON p.id OPERATOR(pg_catalog.=) e.depends_on
                                            WHERE e.job_id OPERATOR(pg_catalog.=) j.id
                                              AND (p.status OPERATOR(pg_catalog.=) ANY (CAST('{waiting,pending,processing}' AS text[]))
                                                   OR p.id OPERATOR(pg_catalog.=) ANY (retried))) END,
                    run_at = pg_catalog.now(),
                    retry_count = 0,
                    -- A job that finished before a dependent was enqueued was never marked as having one
                    -- (insert-dependencies.sql marks unfinished jobs only): mark it now, so that its
                    -- completion releases the dependents this retry made wait for it.
                    has_dependents = j.has_dependents OR EXISTS (
                                         SELECT FROM job_queue_dependency x WHERE x.depends_on OPERATOR(pg_catalog.=) j.id),
                    completed_at = NULL,
                    cancel_requested_at = NULL,
                    lease_expires_at = NULL,
                    history = CASE WHEN pg_catalog.jsonb_array_length(coalesce(j.history, CAST('[]' AS jsonb))) OPERATOR(pg_catalog.>=) 20
                                   THEN j.history OPERATOR(pg_catalog.-) 0 ELSE coalesce(j.history, CAST('[]' AS jsonb)) END
                              OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                  'attempt', j.attempt, 'at', pg_catalog.now(), 'kind', 'admin-retry',
                                  'message', coalesce(job_queue_retry.note, pg_catalog.concat('retried after: ', pg_catalog.left(j.error_message, 1000))),
                                  'worker', NULL)),
                    error_message = NULL
              WHERE j.id OPERATOR(pg_catalog.=) ANY (retried)
             RETURNING j.id)
    SELECT pg_catalog.count(*) INTO retried_n FROM done;
    PERFORM pg_catalog.pg_notify(job_queue_channel(), q.queue)
       FROM (SELECT DISTINCT j.queue FROM job_queue j
              WHERE j.id OPERATOR(pg_catalog.=) ANY (retried)
                AND j.status OPERATOR(pg_catalog.=) CAST('pending' AS text)) q;
    RETURN retried_n;
END
$$;

-- ---- cancel and delete ---------------------------------------------------------------------------

-- Cancels the jobs among ids as JobQueue.cancel does: a waiting or pending one becomes cancelled at
-- once (its waiting dependents then follow their on_dependency_failure); for a processing one the
-- request is recorded and its worker told ('cancel:<id>' on the schema's channel), and the worker
-- ends it cancelled. Jobs another transaction holds locked at that moment are skipped. Returns how
-- many jobs were cancelled or asked to stop. Example:
--   SELECT job_queue_cancel_jobs(ARRAY(SELECT id FROM job_queue WHERE queue = 'reports' AND status = 'pending'));
CREATE OR REPLACE FUNCTION job_queue_cancel_jobs(ids uuid[], note text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    changed integer;
BEGIN
    WITH locked AS (
             SELECT j.id
               FROM job_queue j
              WHERE j.id OPERATOR(pg_catalog.=) ANY (job_queue_cancel_jobs.ids)
                AND (j.status OPERATOR(pg_catalog.=) ANY (CAST('{waiting,pending}' AS text[]))
                     OR (j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) AND j.cancel_requested_at IS NULL))
              ORDER BY j.id
                FOR UPDATE SKIP LOCKED),
         done AS (
             UPDATE job_queue j
                SET status = CASE WHEN j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) THEN j.status ELSE 'cancelled' END,
                    completed_at = CASE WHEN j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) THEN j.completed_at
                                        ELSE pg_catalog.now() END,
                    cancel_requested_at = CASE WHEN j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) THEN pg_catalog.now()
                                               ELSE j.cancel_requested_at END,
                    error_message = CASE WHEN j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) THEN j.error_message
                                         ELSE coalesce(job_queue_cancel_jobs.note, 'cancelled by an operator') END,
                    history = CASE WHEN j.status OPERATOR(pg_catalog.=) CAST('processing' AS text) THEN j.history
                                   ELSE CASE WHEN pg_catalog.jsonb_array_length(coalesce(j.history, CAST('[]' AS jsonb))) OPERATOR(pg_catalog.>=) 20
                                             THEN j.history OPERATOR(pg_catalog.-) 0 ELSE coalesce(j.history, CAST('[]' AS jsonb)) END
                                        OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                            'attempt', j.attempt, 'at', pg_catalog.now(), 'kind', 'cancelled',
                                            'message', coalesce(job_queue_cancel_jobs.note, 'cancelled by an operator'), 'worker', NULL)) END
               FROM locked
              WHERE j.id OPERATOR(pg_catalog.=) locked.id
             RETURNING j.id, j.status)
    SELECT pg_catalog.count(*) INTO changed
      FROM (SELECT d.id, CASE WHEN d.status OPERATOR(pg_catalog.=) CAST('processing' AS text)
                              THEN pg_catalog.pg_notify(job_queue_channel(), pg_catalog.concat('cancel:', d.id)) END
              FROM done d) n;
    RETURN changed;
END
$$;

-- Deletes the jobs among ids that are not processing (a running job is cancelled first, never
-- deleted under its worker); jobs another transaction holds locked at that moment are skipped. An
-- unfinished job that is deleted counts for its waiting dependents as cancelled (V3's trigger).
-- Returns how many jobs were deleted. Example:
--   SELECT job_queue_delete_jobs(ARRAY(SELECT id FROM job_queue WHERE status = 'failed' AND job_type = 'old-report' LIMIT 1000));
CREATE OR REPLACE FUNCTION job_queue_delete_jobs(ids uuid[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    changed integer;
BEGIN
    WITH locked AS (
             SELECT j.id
               FROM job_queue j
              WHERE j.id OPERATOR(pg_catalog.=) ANY (job_queue_delete_jobs.ids)
                AND j.status OPERATOR(pg_catalog.<>) CAST('processing' AS text)
              ORDER BY j.id
                FOR UPDATE SKIP LOCKED),
         done AS (
             DELETE FROM job_queue j USING locked
              WHERE j.id OPERATOR(pg_catalog.=) locked.id
                AND j.status OPERATOR(pg_catalog.<>) CAST('processing' AS text)
             RETURNING j.id)
    SELECT pg_catalog.count(*) INTO changed FROM done;
    RETURN changed;
END
$$;

-- ---- views ---------------------------------------------------------------------------------------

-- Per queue that has jobs: jobs per status, how long the oldest due pending job has been due, and
-- jobs completed and failed for good in the last 1, 5 and 15 minutes. One pass over job_queue
-- (docs/admin.md has its time on a million rows). Example: SELECT * FROM job_queue_stats;
CREATE OR REPLACE VIEW job_queue_stats AS
SELECT j.queue,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('waiting' AS text))    AS waiting,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('pending' AS text))    AS pending,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('processing' AS text)) AS processing,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('completed' AS text))  AS completed,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('failed' AS text))     AS failed,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('cancelled' AS text))  AS cancelled,
       coalesce(pg_catalog.now() OPERATOR(pg_catalog.-)
                    pg_catalog.min(j.run_at) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('pending' AS text)
                                                      AND j.run_at OPERATOR(pg_catalog.<=) pg_catalog.now()),
                CAST('0' AS interval)) AS oldest_pending_age,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('completed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('1 minute' AS interval)))   AS completed_1m,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('completed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('5 minutes' AS interval)))  AS completed_5m,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('completed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('15 minutes' AS interval))) AS completed_15m,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('failed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('1 minute' AS interval)))   AS failed_1m,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('failed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('5 minutes' AS interval)))  AS failed_5m,
       pg_catalog.count(*) FILTER (WHERE j.status OPERATOR(pg_catalog.=) CAST('failed' AS text)
                                     AND j.completed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('15 minutes' AS interval))) AS failed_15m
  FROM job_queue j
 GROUP BY j.queue;

-- The dead-letter view: failed jobs grouped by queue, job type and the first line of their error
-- (an exception's message, without its stack trace), largest group first. Uses job_queue_failed_idx.
-- Retry one group with
--   SELECT job_queue_retry(ARRAY(SELECT id FROM job_queue WHERE status = 'failed' AND queue = ... AND job_type = ...
--          AND split_part(coalesce(error_message, ''), E'\n', 1) = ... LIMIT 1000));
CREATE OR REPLACE VIEW job_queue_failure_groups AS
SELECT j.queue,
       j.job_type,
       pg_catalog.split_part(coalesce(j.error_message, ''), E'\n', 1) AS error,
       pg_catalog.count(*)           AS jobs,
       pg_catalog.min(j.completed_at) AS first_failed,
       pg_catalog.max(j.completed_at) AS last_failed
  FROM job_queue j
 WHERE j.status OPERATOR(pg_catalog.=) CAST('failed' AS text)
 GROUP BY 1, 2, 3
 ORDER BY 4 DESC, 1, 2, 3;

-- ---- rights, search paths and comments ------------------------------------------------------------

REVOKE ALL ON FUNCTION job_queue_retry(uuid[], text), job_queue_cancel_jobs(uuid[], text), job_queue_delete_jobs(uuid[])
    FROM PUBLIC;
REVOKE ALL ON TABLE job_queue_stats, job_queue_failure_groups FROM PUBLIC;

DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_retry(uuid[], text)',
        'job_queue_cancel_jobs(uuid[], text)',
        'job_queue_delete_jobs(uuid[])'
    ] LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, pg_catalog.current_schema());
    END LOOP;
END
$$;

COMMENT ON VIEW job_queue_stats IS 'pgqueue: per queue, jobs per status, oldest due pending age, completed/failed in the last 1/5/15 minutes';
COMMENT ON VIEW job_queue_failure_groups IS 'pgqueue: failed jobs by queue, job type and first line of error (dead letters)';
