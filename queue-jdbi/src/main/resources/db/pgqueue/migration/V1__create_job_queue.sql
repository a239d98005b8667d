-- pgqueue V1: the job_queue table, its status contract, the SQL enqueue function and the NOTIFY
-- that wakes workers. Part of pgqueue's public SQL contract (see README, "The SQL contract").
--
-- Plain SQL: run it as it is with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- A database that already has the seed's job_queue table (id, job_type, payload, status,
-- retry_count, max_retries, error_message, user_id, created_at, processed_at, completed_at) is
-- upgraded in place: columns are added with defaults, no existing value is changed, and its pending
-- rows become claimable.

CREATE TABLE IF NOT EXISTS job_queue (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type      text        NOT NULL,
    payload       jsonb       NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'pending',
    retry_count   integer     NOT NULL DEFAULT 0,
    max_retries   integer     NOT NULL DEFAULT 3,
    error_message text,
    user_id       uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    completed_at  timestamptz
);

-- What pgqueue adds to the seed's columns. Every one has a default, so the seed's own
-- INSERT INTO job_queue (job_type, payload, user_id) VALUES (...) still makes a claimable job.
ALTER TABLE job_queue
    ADD COLUMN IF NOT EXISTS queue               text        NOT NULL DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS priority            integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS run_at              timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS attempt             integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS lease_owner         text,
    ADD COLUMN IF NOT EXISTS lease_token         uuid,
    ADD COLUMN IF NOT EXISTS lease_expires_at    timestamptz,
    ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;

-- A seed table may have been created with other defaults or without NOT NULL; align them. (If a
-- seed row holds a NULL in one of these columns, this fails and the whole migration rolls back:
-- fix that row first.)
ALTER TABLE job_queue
    ALTER COLUMN job_type    SET NOT NULL,
    ALTER COLUMN payload     SET DEFAULT '{}',
    ALTER COLUMN payload     SET NOT NULL,
    ALTER COLUMN status      SET DEFAULT 'pending',
    ALTER COLUMN status      SET NOT NULL,
    ALTER COLUMN retry_count SET DEFAULT 0,
    ALTER COLUMN retry_count SET NOT NULL,
    ALTER COLUMN max_retries SET DEFAULT 3,
    ALTER COLUMN max_retries SET NOT NULL,
    ALTER COLUMN created_at  SET DEFAULT now(),
    ALTER COLUMN created_at  SET NOT NULL;

-- Rows a seed processor left 'processing' have no lease; give them one (measured from when they
-- started) so that the rescuer returns them if that processor is gone. Only adopted rows match.
UPDATE job_queue
   SET lease_owner = 'adopted-from-seed',
       lease_expires_at = coalesce(processed_at, now()) + interval '15 minutes'
 WHERE status = 'processing' AND lease_expires_at IS NULL;

-- The contract's constraints, by name. Dropped first so that a re-run (or a seed table whose
-- status check carries the same default name) ends with exactly these.
ALTER TABLE job_queue
    DROP CONSTRAINT IF EXISTS job_queue_status_check,
    DROP CONSTRAINT IF EXISTS job_queue_job_type_check,
    DROP CONSTRAINT IF EXISTS job_queue_queue_check,
    DROP CONSTRAINT IF EXISTS job_queue_counts_check,
    DROP CONSTRAINT IF EXISTS job_queue_lease_check;
ALTER TABLE job_queue
    ADD CONSTRAINT job_queue_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    -- PostgreSQL checks every CHECK constraint on every UPDATE of a row, so these run at each claim
    -- and completion. A bounded repetition such as {0,127} compiles into a large automaton (~7 us a
    -- match here); '*' with a separate length test (ASCII only, so bytes = characters) is ~10x cheaper.
    ADD CONSTRAINT job_queue_job_type_check
        CHECK (job_type ~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AND octet_length(job_type) <= 128),
    ADD CONSTRAINT job_queue_queue_check
        CHECK (queue ~ '^[A-Za-z_][A-Za-z0-9_-]*$' AND octet_length(queue) <= 63),
    ADD CONSTRAINT job_queue_counts_check
        CHECK (retry_count >= 0 AND max_retries >= 0 AND attempt >= 0),
    -- A processing job always has a lease, so that the rescuer can always take it back.
    ADD CONSTRAINT job_queue_lease_check
        CHECK (status <> 'processing' OR lease_expires_at IS NOT NULL);

-- Serves claim.sql: due pending jobs of one queue in claim order (priority, then run_at, then id).
CREATE INDEX IF NOT EXISTS job_queue_claim_idx
    ON job_queue (queue, priority, run_at, id) WHERE status = 'pending';
-- Serves rescue.sql: processing jobs whose lease has expired, oldest lease first.
CREATE INDEX IF NOT EXISTS job_queue_lease_idx
    ON job_queue (lease_expires_at) WHERE status = 'processing';
-- Serves prune.sql: finished jobs by the time they finished.
CREATE INDEX IF NOT EXISTS job_queue_finished_idx
    ON job_queue (completed_at) WHERE status IN ('completed', 'failed', 'cancelled');

-- Time-ordered UUIDs (version 7) for rows inserted by SQL, so that the primary key index stays
-- compact under heavy insert: consecutive ids land on the same B-tree page instead of a random one.
-- (PostgreSQL 14 has no uuidv7(); this builds one from gen_random_uuid() and the clock.)
CREATE OR REPLACE FUNCTION job_queue_uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE AS
$$
    SELECT encode(
               set_bit(set_bit(
                   overlay(uuid_send(gen_random_uuid())
                           PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                           FROM 1 FOR 6),
                   52, 1), 53, 1),
               'hex')::uuid
$$;
ALTER TABLE job_queue ALTER COLUMN id SET DEFAULT job_queue_uuid_v7();

-- The NOTIFY channel of this schema's queue: several schemas can share one database without
-- waking each other's workers. 'job_queue_<schema>', or a digest when the name would be too long.
CREATE OR REPLACE FUNCTION job_queue_channel() RETURNS text
    LANGUAGE sql STABLE AS
$$
    SELECT CASE WHEN octet_length(current_schema()) <= 53 THEN 'job_queue_' || current_schema()
                ELSE 'job_queue_' || md5(current_schema()) END
$$;

-- Enqueue for producers that are not Java (a tRPC router, an Edge Function, psql, pg_cron).
-- Returns the new job's id. NULL arguments take the defaults. Example:
--   SELECT job_queue_enqueue('generate-image', '{"imageId": "…"}', user_id => '…');
CREATE OR REPLACE FUNCTION job_queue_enqueue(
    job_type    text,
    payload     jsonb       DEFAULT '{}',
    queue       text        DEFAULT 'default',
    priority    integer     DEFAULT 0,
    run_at      timestamptz DEFAULT NULL,
    max_retries integer     DEFAULT 3,
    user_id     uuid        DEFAULT NULL
) RETURNS uuid
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    new_id uuid;
BEGIN
    IF job_queue_enqueue.job_type IS NULL
       OR (job_queue_enqueue.job_type !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' OR octet_length(job_queue_enqueue.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(quote_literal(left(job_queue_enqueue.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue.queue IS NOT NULL
       AND (job_queue_enqueue.queue !~ '^[A-Za-z_][A-Za-z0-9_-]*$' OR octet_length(job_queue_enqueue.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            quote_literal(left(job_queue_enqueue.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue.max_retries
            USING ERRCODE = 'check_violation';
    END IF;

    INSERT INTO job_queue AS j (job_type, payload, queue, priority, run_at, max_retries, user_id)
    VALUES (job_queue_enqueue.job_type,
            coalesce(job_queue_enqueue.payload, '{}'),
            coalesce(job_queue_enqueue.queue, 'default'),
            coalesce(job_queue_enqueue.priority, 0),
            coalesce(job_queue_enqueue.run_at, now()),
            coalesce(job_queue_enqueue.max_retries, 3),
            job_queue_enqueue.user_id)
    RETURNING j.id INTO new_id;
    RETURN new_id;
END
$$;

-- Wakes workers: one NOTIFY per statement and queue (not per row), whose payload is the queue name.
-- PostgreSQL delivers it when the inserting transaction commits, and not at all if it rolls back.
CREATE OR REPLACE FUNCTION job_queue_notify_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify(job_queue_channel(), q.queue)
       FROM (SELECT DISTINCT queue FROM inserted_jobs WHERE status = 'pending') q;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS job_queue_notify_insert ON job_queue;
CREATE TRIGGER job_queue_notify_insert
    AFTER INSERT ON job_queue
    REFERENCING NEW TABLE AS inserted_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION job_queue_notify_insert();

-- A processor outside pgqueue (the seed's get_next_job(), still running while its database is
-- adopted, or a hand-written UPDATE) sets rows 'processing' without a lease, which the lease check
-- would reject. Such a claim gets a lease of 15 minutes instead, so that the rescuer takes the job
-- back if that processor dies, and no lease token, so that no pgqueue worker that held the job before
-- can record an outcome over it. pgqueue's own claim always sets a new lease_token and expiry, so the
-- WHEN clauses keep these triggers from firing for it.
CREATE OR REPLACE FUNCTION job_queue_default_lease() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.lease_owner := 'outside-pgqueue';
    NEW.lease_token := NULL;
    NEW.lease_expires_at := now() + interval '15 minutes';
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS job_queue_default_lease_insert ON job_queue;
CREATE TRIGGER job_queue_default_lease_insert
    BEFORE INSERT ON job_queue
    FOR EACH ROW
    WHEN (NEW.status = 'processing' AND NEW.lease_expires_at IS NULL)
    EXECUTE FUNCTION job_queue_default_lease();

DROP TRIGGER IF EXISTS job_queue_default_lease_update ON job_queue;
CREATE TRIGGER job_queue_default_lease_update
    BEFORE UPDATE OF status ON job_queue
    FOR EACH ROW
    WHEN (NEW.status = 'processing' AND OLD.status <> 'processing'
          AND NEW.lease_token IS NOT DISTINCT FROM OLD.lease_token
          AND NEW.lease_expires_at IS NOT DISTINCT FROM OLD.lease_expires_at)
    EXECUTE FUNCTION job_queue_default_lease();

-- Pin every function's search_path to this schema (then pg_temp), so that no caller's search_path
-- can redirect what they refer to.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_uuid_v7()',
        'job_queue_channel()',
        'job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid)',
        'job_queue_notify_insert()',
        'job_queue_default_lease()'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
    END LOOP;
END
$$;

COMMENT ON TABLE job_queue IS 'pgqueue jobs. Public SQL contract: see the pgqueue README.';
COMMENT ON COLUMN job_queue.status IS 'pending | processing | completed | failed | cancelled';
COMMENT ON COLUMN job_queue.retry_count IS 'failed attempts so far (a rescued crash counts; a snooze or hand-back does not)';
COMMENT ON COLUMN job_queue.max_retries IS 'retries allowed after the first run';
COMMENT ON COLUMN job_queue.processed_at IS 'when the latest attempt started';
COMMENT ON COLUMN job_queue.completed_at IS 'when the job reached a final status (completed, failed or cancelled)';
COMMENT ON COLUMN job_queue.queue IS 'the queue; workers serve named queues';
COMMENT ON COLUMN job_queue.priority IS 'lower runs first';
COMMENT ON COLUMN job_queue.run_at IS 'not claimed before this time';
COMMENT ON COLUMN job_queue.attempt IS 'runs so far: every claim counts';
COMMENT ON COLUMN job_queue.lease_owner IS 'the worker that holds (or last held) the job';
COMMENT ON COLUMN job_queue.lease_token IS 'fencing token of the latest claim; outcomes must present it';
COMMENT ON COLUMN job_queue.lease_expires_at IS 'a processing job whose lease passed this time is rescued';
COMMENT ON COLUMN job_queue.cancel_requested_at IS 'a producer asked to cancel this processing job';
