-- pgqueue V3: job_queue_enqueue() rejects payloads over a size limit, as the Java JobQueue does
-- (JobQueue.DEFAULT_MAX_PAYLOAD_BYTES). Part of pgqueue's public SQL contract (see README).
--
-- The limit is the setting pgqueue.max_payload_bytes (bytes of the payload as JSON text, UTF-8),
-- 1048576 (1 MiB) when unset. Change it per database or role, e.g.
--   ALTER DATABASE mydb SET pgqueue.max_payload_bytes = 4194304;
-- A plain INSERT into job_queue is not checked (the seed's producers keep working as they are);
-- the optional roles script (db/pgqueue/optional/roles.sql) applies the same limit to producers
-- that insert directly.

-- The payload limit in force, in bytes.
CREATE OR REPLACE FUNCTION job_queue_max_payload_bytes() RETURNS integer
    LANGUAGE sql STABLE AS
$$
    SELECT coalesce(nullif(current_setting('pgqueue.max_payload_bytes', true), '')::integer, 1048576)
$$;

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
    payload_bytes integer;
BEGIN
    IF job_queue_enqueue.job_type IS NULL
       OR job_queue_enqueue.job_type !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$' THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(quote_literal(left(job_queue_enqueue.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue.queue IS NOT NULL
       AND job_queue_enqueue.queue !~ '^[A-Za-z_][A-Za-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            quote_literal(left(job_queue_enqueue.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    payload_bytes := octet_length(CAST(job_queue_enqueue.payload AS text));
    IF payload_bytes > job_queue_max_payload_bytes() THEN
        RAISE EXCEPTION 'expected payload to be at most % bytes of JSON (setting pgqueue.max_payload_bytes), got: % bytes',
            job_queue_max_payload_bytes(), payload_bytes
            USING ERRCODE = 'program_limit_exceeded';
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

-- Pinned, as every pgqueue function: no caller's search_path can redirect what they refer to.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_max_payload_bytes()',
        'job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid)'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
    END LOOP;
END
$$;
