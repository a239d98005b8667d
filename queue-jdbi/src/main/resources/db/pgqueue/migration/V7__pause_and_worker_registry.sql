-- pgqueue V7: pausing queues and the worker registry. Part of pgqueue's public SQL contract (see
-- docs/operations.md).
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Functions written here call built-ins as pg_catalog.<name> and compare with OPERATOR(pg_catalog.<op>),
-- so that no function or operator another role creates in this schema can stand in for them.
--
-- Safe during a rolling upgrade: it only creates two small tables, a view and three functions.
-- Workers of earlier versions neither read nor write them: they ignore a pause and are not listed.

-- ---- pausing queues ------------------------------------------------------------------------------

-- Per-queue state shared by every worker of the table: a queue with paused_at set is paused (no
-- worker of V7 or later claims from it; its jobs stay pending, enqueue keeps working, running jobs
-- finish). A queue without a row is not paused. Write it through job_queue_pause(queue) and
-- job_queue_resume(queue), which also wake the workers; workers re-read it about every second.
CREATE TABLE IF NOT EXISTS job_queue_queue (
    queue      text        NOT NULL,
    paused_at  timestamptz,
    paused_by  text,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Serves queue-paused.sql (the paused queues) and the upserts of job_queue_pause/job_queue_resume.
    CONSTRAINT job_queue_queue_pkey PRIMARY KEY (queue),
    CONSTRAINT job_queue_queue_queue_check
        CHECK (queue OPERATOR(pg_catalog.~) '^[A-Za-z_][A-Za-z0-9_-]*$' AND pg_catalog.octet_length(queue) OPERATOR(pg_catalog.<=) 63)
);

COMMENT ON TABLE job_queue_queue IS
    'pgqueue: per-queue state; paused_at set = no worker claims from the queue (job_queue_pause / job_queue_resume)';

-- Pauses a queue for every worker: within about a second no worker claims from it. Returns true if
-- this call paused it, false if it was paused already. Wakes the workers with a notification, which
-- is only a hint: they re-read job_queue_queue (a forged notification pauses nothing).
CREATE OR REPLACE FUNCTION job_queue_pause(queue text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    changed boolean;
BEGIN
    IF job_queue_pause.queue IS NULL
       OR job_queue_pause.queue OPERATOR(pg_catalog.!~) '^[A-Za-z_][A-Za-z0-9_-]*$'
       OR pg_catalog.octet_length(job_queue_pause.queue) OPERATOR(pg_catalog.>) 63 THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_pause.queue, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO job_queue_queue AS q (queue, paused_at, paused_by, updated_at)
    VALUES (job_queue_pause.queue, pg_catalog.now(), CAST(pg_catalog.current_user() AS text), pg_catalog.now())
    ON CONFLICT ON CONSTRAINT job_queue_queue_pkey DO UPDATE
        SET paused_at = pg_catalog.now(), paused_by = EXCLUDED.paused_by, updated_at = pg_catalog.now()
        WHERE q.paused_at IS NULL;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM pg_catalog.pg_notify(job_queue_channel(), CAST('queues:' AS text) OPERATOR(pg_catalog.||) job_queue_pause.queue);
    RETURN changed;
END
$$;

-- Resumes a paused queue and wakes the workers serving it. Returns true if this call resumed it,
-- false if it was not paused.
CREATE OR REPLACE FUNCTION job_queue_resume(queue text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    changed boolean;
BEGIN
    IF job_queue_resume.queue IS NULL
       OR job_queue_resume.queue OPERATOR(pg_catalog.!~) '^[A-Za-z_][A-Za-z0-9_-]*$'
       OR pg_catalog.octet_length(job_queue_resume.queue) OPERATOR(pg_catalog.>) 63 THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_resume.queue, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE job_queue_queue q
       SET paused_at = NULL, paused_by = NULL, updated_at = pg_catalog.now()
     WHERE q.queue OPERATOR(pg_catalog.=) job_queue_resume.queue
       AND q.paused_at IS NOT NULL;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM pg_catalog.pg_notify(job_queue_channel(), CAST('queues:' AS text) OPERATOR(pg_catalog.||) job_queue_resume.queue);
    -- Workers of any version: jobs are available on the queue again.
    PERFORM pg_catalog.pg_notify(job_queue_channel(), job_queue_resume.queue);
    RETURN changed;
END
$$;

-- ---- the worker registry -------------------------------------------------------------------------

-- One row per running worker (V7 and later): it inserts its row at start, renews last_heartbeat and
-- running every presence interval (one UPDATE of this row), and deletes it on close. A worker is
-- alive while last_heartbeat is within 3 of its own presence intervals; after that, any worker's
-- rescuer returns the jobs it held to pending without waiting for their leases to expire, and
-- deletes its row once it is 10 intervals old. Written by workers only; read it through
-- job_queue_workers.
CREATE TABLE IF NOT EXISTS job_queue_worker (
    id                text        NOT NULL,
    host              text        NOT NULL,
    pid               bigint      NOT NULL,
    -- {"queue": concurrency, ...}
    queues            jsonb       NOT NULL DEFAULT '{}',
    job_types         text[]      NOT NULL DEFAULT '{}',
    -- [{"name": ..., "type": ..., "queue": ..., "schedule": ...}, ...]
    recurring         jsonb       NOT NULL DEFAULT '[]',
    version           text,
    started_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_heartbeat    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    running           integer     NOT NULL DEFAULT 0,
    presence_interval interval    NOT NULL,
    -- Serves worker-beat.sql, worker-delete.sql and the upsert of worker-register.sql; rescue.sql and
    -- worker-beat.sql read the whole (small) table.
    CONSTRAINT job_queue_worker_pkey PRIMARY KEY (id),
    CONSTRAINT job_queue_worker_presence_check CHECK (presence_interval OPERATOR(pg_catalog.>) CAST('0' AS interval)),
    CONSTRAINT job_queue_worker_running_check CHECK (running OPERATOR(pg_catalog.>=) 0)
);

COMMENT ON TABLE job_queue_worker IS
    'pgqueue: the running workers, each renewing last_heartbeat every presence_interval; read job_queue_workers';

-- The registry for people and dashboards: every row, with whether the worker counts as alive.
CREATE OR REPLACE VIEW job_queue_workers AS
SELECT w.id, w.host, w.pid, w.queues, w.job_types, w.recurring, w.version, w.started_at, w.last_heartbeat,
       w.running, w.presence_interval,
       w.last_heartbeat OPERATOR(pg_catalog.>=)
           (pg_catalog.now() OPERATOR(pg_catalog.-) (CAST(3 AS double precision) OPERATOR(pg_catalog.*) w.presence_interval)) AS alive
  FROM job_queue_worker w;

COMMENT ON VIEW job_queue_workers IS
    'pgqueue: registered workers; alive = renewed within 3 presence intervals (a dead one''s jobs are rescued, its row deleted after 10)';

-- ---- function search paths -------------------------------------------------------------------------

DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_pause(text)',
        'job_queue_resume(text)'
    ] LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, pg_catalog.current_schema());
    END LOOP;
END
$$;

-- ---- rights --------------------------------------------------------------------------------------

-- Nothing here is for PUBLIC: pausing is the owner's (roles.sql grants the worker what it reads and
-- writes). Where Supabase's roles exist, their default privileges would have granted them the new
-- tables and view as they were created: take that back at once, not only when supabase-rls.sql is run
-- again, since a role that may write these tables could pause queues or age a live worker's entry.
REVOKE ALL ON TABLE job_queue_queue, job_queue_worker, job_queue_workers FROM PUBLIC;
REVOKE ALL ON FUNCTION job_queue_pause(text), job_queue_resume(text) FROM PUBLIC;
DO
$$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON TABLE job_queue_queue, job_queue_worker, job_queue_workers FROM %I', r);
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION job_queue_pause(text), job_queue_resume(text) FROM %I', r);
        END IF;
    END LOOP;
END
$$;
