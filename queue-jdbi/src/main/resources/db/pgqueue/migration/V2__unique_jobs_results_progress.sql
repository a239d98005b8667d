-- pgqueue V2: unique jobs (dedupe keys), job results and progress reports, and the payload limit of
-- the enqueue functions. Part of pgqueue's public SQL contract (see README, "The SQL contract").
--
-- Plain SQL, like V1: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Safe during a rolling upgrade: it adds only nullable columns without defaults (no table rewrite),
-- constraints on those columns, one partial index that no row of the previous version enters (they
-- have no dedupe key), and functions. Workers of the previous version keep working against it as
-- before; their jobs simply have no dedupe key, result or progress. job_queue_enqueue(...) is
-- replaced by a version with three more optional arguments: every call that worked before works
-- the same.

ALTER TABLE job_queue
    ADD COLUMN IF NOT EXISTS dedupe_key       text,
    ADD COLUMN IF NOT EXISTS unique_states    text[],
    ADD COLUMN IF NOT EXISTS unique_until     timestamptz,
    ADD COLUMN IF NOT EXISTS result           jsonb,
    ADD COLUMN IF NOT EXISTS progress_percent smallint,
    ADD COLUMN IF NOT EXISTS progress_message text,
    ADD COLUMN IF NOT EXISTS progress_at      timestamptz;

-- Dropped first so that a re-run ends with exactly these. NOT VALID: the columns were just added, so
-- every existing row satisfies the checks (all NULL; on a re-run, the rows passed these very checks
-- before); this spares a scan of the whole table while the migration holds ALTER TABLE's lock, which
-- would pause running workers. Every row inserted or updated from now on is checked.
ALTER TABLE job_queue
    DROP CONSTRAINT IF EXISTS job_queue_dedupe_check,
    DROP CONSTRAINT IF EXISTS job_queue_unique_states_check,
    DROP CONSTRAINT IF EXISTS job_queue_progress_check;
ALTER TABLE job_queue
    ADD CONSTRAINT job_queue_dedupe_check
        CHECK (dedupe_key IS NULL OR length(dedupe_key) BETWEEN 1 AND 255) NOT VALID,
    -- NULL: the default, pending and processing. Empty: the key no longer blocks duplicates (its
    -- period ended). Otherwise statuses of the contract, pending among them: every job starts
    -- pending, and a key must block duplicates from the start.
    ADD CONSTRAINT job_queue_unique_states_check
        CHECK (unique_states IS NULL
               OR cardinality(unique_states) = 0
               OR ('pending' = ANY (unique_states)
                   AND unique_states <@ ARRAY['pending', 'processing', 'completed', 'failed', 'cancelled'])) NOT VALID,
    ADD CONSTRAINT job_queue_progress_check
        CHECK (progress_percent BETWEEN 0 AND 100) NOT VALID;

-- Serves insert-unique.sql (the arbiter of its ON CONFLICT, and its look-up of the job that holds a
-- key), job_queue_enqueue_unique() likewise, and latest-dedupe-key.sql (by job_type, then the key):
-- at most one job per job type and dedupe key among the jobs whose key still blocks duplicates,
-- i.e. whose status is one of their unique_states. A job leaves the index when its status leaves
-- those states (no job has to run for that) or when its states are emptied because its period
-- (unique_until) has passed. Jobs without a key are not in it, so it costs them nothing.
-- Building it reads the whole table once, under the migration's lock; on a very large job_queue,
-- create it beforehand with CREATE UNIQUE INDEX CONCURRENTLY (same definition) and this skips it.
CREATE UNIQUE INDEX IF NOT EXISTS job_queue_dedupe_idx
    ON job_queue (job_type, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status = ANY (coalesce(unique_states, '{pending,processing}'::text[]));

-- The payload limit of the enqueue functions, in bytes of the payload as JSON text (UTF-8): the
-- setting pgqueue.max_payload_bytes, 1048576 (1 MiB, as JobQueue.DEFAULT_MAX_PAYLOAD_BYTES) when
-- unset. Change it per database or role, e.g. ALTER DATABASE mydb SET pgqueue.max_payload_bytes = 4194304;
-- A plain INSERT into job_queue is not checked (the seed's producers keep working as they are); the
-- optional roles script (db/pgqueue/optional/roles.sql) applies the limit to producers' inserts too.
CREATE OR REPLACE FUNCTION job_queue_max_payload_bytes() RETURNS integer
    LANGUAGE sql STABLE AS
$$
    SELECT coalesce(nullif(current_setting('pgqueue.max_payload_bytes', true), '')::integer, 1048576)
$$;

-- Raises the contract's error when a payload is over the limit.
CREATE OR REPLACE FUNCTION job_queue_check_payload(payload jsonb) RETURNS void
    LANGUAGE plpgsql STABLE AS
$$
DECLARE
    payload_bytes integer := octet_length(CAST(job_queue_check_payload.payload AS text));
BEGIN
    IF payload_bytes > job_queue_max_payload_bytes() THEN
        RAISE EXCEPTION 'expected payload to be at most % bytes of JSON (setting pgqueue.max_payload_bytes), got: % bytes',
            job_queue_max_payload_bytes(), payload_bytes
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
END
$$;

-- Enqueue with a dedupe key, for producers that are not Java. Returns the new job's id and false,
-- or, when a job of the same type already holds the key, that job's id and true (and inserts
-- nothing). Never fails because of a concurrent enqueue of the same key: the loser waits for the
-- winner's transaction and returns its id. Example:
--   SELECT * FROM job_queue_enqueue_unique('send-digest', '{"userId": "…"}', dedupe_key => 'digest:…');
-- unique_states: the statuses in which the key blocks duplicates (NULL: pending and processing);
-- unique_for: how long after enqueue it does at most (NULL: no limit).
CREATE OR REPLACE FUNCTION job_queue_enqueue_unique(
    job_type      text,
    payload       jsonb       DEFAULT '{}',
    queue         text        DEFAULT 'default',
    priority      integer     DEFAULT 0,
    run_at        timestamptz DEFAULT NULL,
    max_retries   integer     DEFAULT 3,
    user_id       uuid        DEFAULT NULL,
    dedupe_key    text        DEFAULT NULL,
    unique_states text[]      DEFAULT NULL,
    unique_for    interval    DEFAULT NULL
) RETURNS TABLE (job_id uuid, duplicate boolean)
    LANGUAGE plpgsql VOLATILE AS
$$
#variable_conflict use_column
DECLARE
    new_id     uuid := job_queue_uuid_v7();
    held_id    uuid;
    held_until timestamptz;
BEGIN
    IF job_queue_enqueue_unique.job_type IS NULL
       OR (job_queue_enqueue_unique.job_type !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' OR octet_length(job_queue_enqueue_unique.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(quote_literal(left(job_queue_enqueue_unique.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.queue IS NOT NULL
       AND (job_queue_enqueue_unique.queue !~ '^[A-Za-z_][A-Za-z0-9_-]*$' OR octet_length(job_queue_enqueue_unique.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            quote_literal(left(job_queue_enqueue_unique.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue_unique.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.dedupe_key IS NULL
       OR length(job_queue_enqueue_unique.dedupe_key) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'expected dedupe_key to be 1-255 characters, got: %',
            coalesce(quote_literal(left(job_queue_enqueue_unique.dedupe_key, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_states IS NOT NULL
       AND NOT ('pending' = ANY (job_queue_enqueue_unique.unique_states)
                AND job_queue_enqueue_unique.unique_states <@ ARRAY['pending', 'processing', 'completed', 'failed', 'cancelled']) THEN
        RAISE EXCEPTION 'expected unique_states to be statuses among pending, processing, completed, failed and cancelled, including pending, got: %',
            job_queue_enqueue_unique.unique_states
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_for <= interval '0' THEN
        RAISE EXCEPTION 'expected unique_for to be > 0, got: %', job_queue_enqueue_unique.unique_for
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM job_queue_check_payload(job_queue_enqueue_unique.payload);

    -- Insert unless the key is held; else return the holder. A holder whose period has passed is
    -- released and the insert tried again; so is a holder that left its states (or was deleted)
    -- between the two statements. Each statement sees what committed before it started.
    FOR tries IN 1..10 LOOP
        INSERT INTO job_queue AS j (id, job_type, payload, queue, priority, run_at, max_retries, user_id,
                                    dedupe_key, unique_states, unique_until)
        VALUES (new_id,
                job_queue_enqueue_unique.job_type,
                coalesce(job_queue_enqueue_unique.payload, '{}'),
                coalesce(job_queue_enqueue_unique.queue, 'default'),
                coalesce(job_queue_enqueue_unique.priority, 0),
                coalesce(job_queue_enqueue_unique.run_at, now()),
                coalesce(job_queue_enqueue_unique.max_retries, 3),
                job_queue_enqueue_unique.user_id,
                job_queue_enqueue_unique.dedupe_key,
                job_queue_enqueue_unique.unique_states,
                now() + job_queue_enqueue_unique.unique_for)
        ON CONFLICT (job_type, dedupe_key)
            WHERE dedupe_key IS NOT NULL AND status = ANY (coalesce(unique_states, '{pending,processing}'::text[]))
            DO NOTHING;
        IF FOUND THEN
            job_id := new_id;
            duplicate := false;
            RETURN NEXT;
            RETURN;
        END IF;

        held_id := NULL;
        SELECT h.id, h.unique_until INTO held_id, held_until
          FROM job_queue h
         WHERE h.job_type = job_queue_enqueue_unique.job_type
           AND h.dedupe_key = job_queue_enqueue_unique.dedupe_key
           AND h.dedupe_key IS NOT NULL
           AND h.status = ANY (coalesce(h.unique_states, '{pending,processing}'::text[]));
        IF held_id IS NOT NULL THEN
            IF held_until IS NULL OR held_until > now() THEN
                job_id := held_id;
                duplicate := true;
                RETURN NEXT;
                RETURN;
            END IF;
            UPDATE job_queue h SET unique_states = '{}' WHERE h.id = held_id AND h.unique_until <= now();
        END IF;
    END LOOP;
    RAISE EXCEPTION 'could not enqueue job % with dedupe key %: the job holding the key kept changing; try again',
        job_queue_enqueue_unique.job_type, quote_literal(job_queue_enqueue_unique.dedupe_key)
        USING ERRCODE = 'serialization_failure';
END
$$;

-- V1's job_queue_enqueue with three more optional arguments: with a dedupe_key it returns the id of
-- the job that holds the key if there is one (see job_queue_enqueue_unique for the flag). Calls
-- written for V1's version, positional or named, work unchanged. Replaced rather than overloaded,
-- because two versions with defaults would make those calls ambiguous.
DROP FUNCTION IF EXISTS job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid);
CREATE OR REPLACE FUNCTION job_queue_enqueue(
    job_type      text,
    payload       jsonb       DEFAULT '{}',
    queue         text        DEFAULT 'default',
    priority      integer     DEFAULT 0,
    run_at        timestamptz DEFAULT NULL,
    max_retries   integer     DEFAULT 3,
    user_id       uuid        DEFAULT NULL,
    dedupe_key    text        DEFAULT NULL,
    unique_states text[]      DEFAULT NULL,
    unique_for    interval    DEFAULT NULL
) RETURNS uuid
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    new_id uuid;
BEGIN
    IF job_queue_enqueue.dedupe_key IS NOT NULL THEN
        SELECT u.job_id INTO new_id
          FROM job_queue_enqueue_unique(job_queue_enqueue.job_type, job_queue_enqueue.payload, job_queue_enqueue.queue,
                                        job_queue_enqueue.priority, job_queue_enqueue.run_at, job_queue_enqueue.max_retries,
                                        job_queue_enqueue.user_id, job_queue_enqueue.dedupe_key,
                                        job_queue_enqueue.unique_states, job_queue_enqueue.unique_for) u;
        RETURN new_id;
    END IF;
    IF job_queue_enqueue.unique_states IS NOT NULL OR job_queue_enqueue.unique_for IS NOT NULL THEN
        RAISE EXCEPTION 'expected dedupe_key to be set when unique_states or unique_for is, got: null'
            USING ERRCODE = 'check_violation';
    END IF;
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
    PERFORM job_queue_check_payload(job_queue_enqueue.payload);

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

-- Pin the new functions' search_path to this schema (then pg_temp), as V1 does for its own.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_max_payload_bytes()',
        'job_queue_check_payload(jsonb)',
        'job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)',
        'job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
    END LOOP;
END
$$;

COMMENT ON COLUMN job_queue.dedupe_key IS 'with job_type, unique among jobs whose status is in unique_states (job_queue_dedupe_idx)';
COMMENT ON COLUMN job_queue.unique_states IS 'statuses in which dedupe_key blocks duplicates; NULL = {pending,processing}; {} = no longer';
COMMENT ON COLUMN job_queue.unique_until IS 'dedupe_key blocks duplicates at most until then (released by the next enqueue of the key)';
COMMENT ON COLUMN job_queue.result IS 'what the handler completed the job with (JSON), written with the completion';
COMMENT ON COLUMN job_queue.progress_percent IS 'the latest progress the handler reported, 0-100';
COMMENT ON COLUMN job_queue.progress_message IS 'the message of the latest progress report';
COMMENT ON COLUMN job_queue.progress_at IS 'when the latest progress report was written';
