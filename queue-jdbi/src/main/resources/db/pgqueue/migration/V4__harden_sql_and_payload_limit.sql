-- pgqueue V4: functions that no other role can redirect, and a payload limit that only the owner can
-- change, applied to every insert. Part of pgqueue's public SQL contract (see README, "The SQL
-- contract", "Least privilege").
--
-- Plain SQL, like V1-V3: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Why every function is redefined: a function's search_path is pinned to its schema (pg_catalog is
-- always searched first), but PostgreSQL prefers a function or operator whose argument types match
-- exactly over one that needs an implicit cast, wherever on the path it is. So a role that may CREATE
-- in the queue's schema (any role in `public` on PostgreSQL 14, unless revoked) could define, say,
-- public.set_bit(bytea, integer, integer), which beats pg_catalog.set_bit(bytea, bigint, integer) in
-- job_queue_uuid_v7(), and run its code with the rights of whoever enqueues. Below, every built-in
-- function is called as pg_catalog.<name>, and every operator either has operands of exactly the
-- types of a pg_catalog operator (then pg_catalog, searched first, wins) or is written
-- OPERATOR(pg_catalog.<op>). Signatures, results and behaviour are unchanged except for the payload
-- limit's message. Safe during a rolling upgrade: the new table and triggers change nothing for
-- rows within the limit.

-- ---- the payload limit -----------------------------------------------------------------------------

-- Settings only the owner (who ran the migrations) can change: one row. Nothing is granted on it; the
-- functions below read it with the owner's rights. Before V4 the limit was the session setting
-- pgqueue.max_payload_bytes, which any producer could raise for itself with SET; its value where the
-- migration runs (e.g. ALTER DATABASE ... SET pgqueue.max_payload_bytes) becomes the row's initial
-- value, and the setting is ignored from then on. Change the limit with
--   UPDATE job_queue_setting SET max_payload_bytes = 4194304;
CREATE TABLE IF NOT EXISTS job_queue_setting (
    id                boolean     NOT NULL DEFAULT true,
    max_payload_bytes integer     NOT NULL DEFAULT 1048576,
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT job_queue_setting_pkey PRIMARY KEY (id),
    CONSTRAINT job_queue_setting_one_row CHECK (id),
    CONSTRAINT job_queue_setting_max_payload_bytes_check CHECK (max_payload_bytes >= 2)
);
INSERT INTO job_queue_setting (id, max_payload_bytes)
VALUES (true, coalesce(CAST(NULLIF(pg_catalog.current_setting('pgqueue.max_payload_bytes', true), '') AS integer),
                       1048576))
ON CONFLICT (id) DO NOTHING;
REVOKE ALL ON TABLE job_queue_setting FROM PUBLIC;
COMMENT ON TABLE job_queue_setting IS 'pgqueue settings, one row, owner only: max_payload_bytes (bytes of a payload as JSON text)';

-- The payload limit, in bytes of the payload as JSON text (UTF-8): job_queue_setting's, 1 MiB should
-- its row be gone. SECURITY DEFINER so that every role that enqueues can read the limit without any
-- right on the table; it reads that one value and nothing else.
CREATE OR REPLACE FUNCTION job_queue_max_payload_bytes() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER AS
$$
    SELECT coalesce((SELECT s.max_payload_bytes FROM job_queue_setting s WHERE s.id), 1048576)
$$;

-- Raises the contract's error when a payload is over the limit.
CREATE OR REPLACE FUNCTION job_queue_check_payload(payload jsonb) RETURNS void
    LANGUAGE plpgsql STABLE AS
$$
DECLARE
    payload_bytes integer := pg_catalog.octet_length(CAST(job_queue_check_payload.payload AS text));
    max_bytes     integer := job_queue_max_payload_bytes();
BEGIN
    IF payload_bytes > max_bytes THEN
        RAISE EXCEPTION 'expected payload to be at most % bytes of JSON (job_queue_setting.max_payload_bytes), got: % bytes',
            max_bytes, payload_bytes
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
END
$$;

-- Every insert is checked, however it comes (a plain INSERT, the functions, pgqueue's statements and
-- its COPY path): once per statement, over the rows it inserted. SECURITY DEFINER, as the next one,
-- so that the check never depends on the inserting role's right to execute the limit's function
-- (a deployment may revoke EXECUTE on pgqueue's functions from PUBLIC): it reads the rows just
-- inserted and the limit, and raises, nothing else.
CREATE OR REPLACE FUNCTION job_queue_check_inserted_payloads() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS
$$
DECLARE
    max_bytes integer := job_queue_max_payload_bytes();
    over_id   uuid;
    over_type text;
    over_size integer;
BEGIN
    SELECT i.id, i.job_type, pg_catalog.octet_length(CAST(i.payload AS text))
      INTO over_id, over_type, over_size
      FROM inserted_jobs i
     WHERE pg_catalog.octet_length(CAST(i.payload AS text)) > max_bytes
     LIMIT 1;
    IF over_id IS NOT NULL THEN
        RAISE EXCEPTION 'expected payload to be at most % bytes of JSON (job_queue_setting.max_payload_bytes), got: % bytes (job %/%)',
            max_bytes, over_size, over_type, over_id
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS job_queue_check_payload_insert ON job_queue;
CREATE TRIGGER job_queue_check_payload_insert
    AFTER INSERT ON job_queue
    REFERENCING NEW TABLE AS inserted_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION job_queue_check_inserted_payloads();

-- And a payload changed later (pgqueue never does; a hand-written UPDATE might). Claims, heartbeats
-- and outcomes do not set payload, so this trigger never fires for them.
CREATE OR REPLACE FUNCTION job_queue_check_updated_payload() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS
$$
BEGIN
    PERFORM job_queue_check_payload(NEW.payload);
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS job_queue_check_payload_update ON job_queue;
CREATE TRIGGER job_queue_check_payload_update
    BEFORE UPDATE OF payload ON job_queue
    FOR EACH ROW
    WHEN (NEW.payload IS DISTINCT FROM OLD.payload)
    EXECUTE FUNCTION job_queue_check_updated_payload();

-- ---- V1's functions, qualified -----------------------------------------------------------------------

CREATE OR REPLACE FUNCTION job_queue_uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE AS
$$
    SELECT CAST(pg_catalog.encode(
               pg_catalog.set_bit(pg_catalog.set_bit(
                   pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
                                      pg_catalog.substr(pg_catalog.int8send(CAST(
                                          pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())
                                              OPERATOR(pg_catalog.*) CAST(1000 AS double precision) AS bigint)), 3),
                                      1, 6),
                   CAST(52 AS bigint), 1), CAST(53 AS bigint), 1),
               'hex') AS uuid)
$$;

CREATE OR REPLACE FUNCTION job_queue_channel() RETURNS text
    LANGUAGE sql STABLE AS
$$
    SELECT CASE WHEN pg_catalog.octet_length(CAST(pg_catalog.current_schema() AS text)) <= 53
                THEN CAST('job_queue_' AS text) OPERATOR(pg_catalog.||) CAST(pg_catalog.current_schema() AS text)
                ELSE CAST('job_queue_' AS text) OPERATOR(pg_catalog.||) pg_catalog.md5(CAST(pg_catalog.current_schema() AS text)) END
$$;

CREATE OR REPLACE FUNCTION job_queue_notify_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_catalog.pg_notify(job_queue_channel(), q.queue)
       FROM (SELECT DISTINCT i.queue FROM inserted_jobs i WHERE i.status = 'pending') q;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION job_queue_default_lease() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.lease_owner := 'outside-pgqueue';
    NEW.lease_token := NULL;
    NEW.lease_expires_at := pg_catalog.now() + interval '15 minutes';
    RETURN NEW;
END
$$;

-- ---- V2's enqueue functions, qualified -------------------------------------------------------------

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
       OR (job_queue_enqueue_unique.job_type OPERATOR(pg_catalog.!~) CAST('^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AS text)
           OR pg_catalog.octet_length(job_queue_enqueue_unique.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.queue IS NOT NULL
       AND (job_queue_enqueue_unique.queue OPERATOR(pg_catalog.!~) CAST('^[A-Za-z_][A-Za-z0-9_-]*$' AS text)
            OR pg_catalog.octet_length(job_queue_enqueue_unique.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue_unique.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.dedupe_key IS NULL
       OR pg_catalog.length(job_queue_enqueue_unique.dedupe_key) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'expected dedupe_key to be 1-255 characters, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.dedupe_key, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_states IS NOT NULL
       AND NOT (CAST('pending' AS text) OPERATOR(pg_catalog.=) ANY (job_queue_enqueue_unique.unique_states)
                AND job_queue_enqueue_unique.unique_states
                    OPERATOR(pg_catalog.<@) CAST(ARRAY['pending', 'processing', 'completed', 'failed', 'cancelled'] AS text[])) THEN
        RAISE EXCEPTION 'expected unique_states to be statuses among pending, processing, completed, failed and cancelled, including pending, got: %',
            job_queue_enqueue_unique.unique_states
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_for <= interval '0' THEN
        RAISE EXCEPTION 'expected unique_for to be > 0, got: %', job_queue_enqueue_unique.unique_for
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM job_queue_check_payload(job_queue_enqueue_unique.payload);

    FOR tries IN 1..10 LOOP
        INSERT INTO job_queue AS j (id, job_type, payload, queue, priority, run_at, max_retries, user_id,
                                    dedupe_key, unique_states, unique_until)
        VALUES (new_id,
                job_queue_enqueue_unique.job_type,
                coalesce(job_queue_enqueue_unique.payload, '{}'),
                coalesce(job_queue_enqueue_unique.queue, 'default'),
                coalesce(job_queue_enqueue_unique.priority, 0),
                coalesce(job_queue_enqueue_unique.run_at, pg_catalog.now()),
                coalesce(job_queue_enqueue_unique.max_retries, 3),
                job_queue_enqueue_unique.user_id,
                job_queue_enqueue_unique.dedupe_key,
                job_queue_enqueue_unique.unique_states,
                pg_catalog.now() + job_queue_enqueue_unique.unique_for)
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
            IF held_until IS NULL OR held_until > pg_catalog.now() THEN
                job_id := held_id;
                duplicate := true;
                RETURN NEXT;
                RETURN;
            END IF;
            UPDATE job_queue h SET unique_states = '{}' WHERE h.id = held_id AND h.unique_until <= pg_catalog.now();
        END IF;
    END LOOP;
    RAISE EXCEPTION 'could not enqueue job % with dedupe key %: the job holding the key kept changing; try again',
        job_queue_enqueue_unique.job_type, pg_catalog.quote_literal(job_queue_enqueue_unique.dedupe_key)
        USING ERRCODE = 'serialization_failure';
END
$$;

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
       OR (job_queue_enqueue.job_type OPERATOR(pg_catalog.!~) CAST('^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AS text)
           OR pg_catalog.octet_length(job_queue_enqueue.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue.queue IS NOT NULL
       AND (job_queue_enqueue.queue OPERATOR(pg_catalog.!~) CAST('^[A-Za-z_][A-Za-z0-9_-]*$' AS text)
            OR pg_catalog.octet_length(job_queue_enqueue.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue.queue, 80))
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
            coalesce(job_queue_enqueue.run_at, pg_catalog.now()),
            coalesce(job_queue_enqueue.max_retries, 3),
            job_queue_enqueue.user_id)
    RETURNING j.id INTO new_id;
    RETURN new_id;
END
$$;

-- ---- V3's workflow functions, qualified ------------------------------------------------------------

CREATE OR REPLACE FUNCTION job_queue_dependency_finished(finished_id uuid, finished_type text, finished_status text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    reason   text;
    notified bigint;
BEGIN
    IF finished_status <> 'completed' THEN
        reason := pg_catalog.format('cancelled: its dependency %s/%s %s', finished_type, finished_id,
                                    CASE finished_status WHEN 'failed' THEN 'failed'
                                                         WHEN 'cancelled' THEN 'was cancelled'
                                                         ELSE 'was deleted before it finished' END);
        WITH RECURSIVE doomed (id) AS (
                 SELECT e.job_id
                   FROM job_queue_dependency e JOIN job_queue d ON d.id = e.job_id
                  WHERE e.depends_on = finished_id
                    AND d.status = 'waiting' AND d.on_dependency_failure IS DISTINCT FROM 'run'
                 UNION
                 SELECT e.job_id
                   FROM doomed x
                   JOIN job_queue_dependency e ON e.depends_on = x.id
                   JOIN job_queue d ON d.id = e.job_id
                  WHERE d.status = 'waiting' AND d.on_dependency_failure IS DISTINCT FROM 'run'),
             locked AS (
                 SELECT d.id FROM job_queue d WHERE d.id IN (SELECT id FROM doomed) ORDER BY d.id FOR UPDATE)
        UPDATE job_queue d
           SET status = 'cancelled', completed_at = pg_catalog.now(), error_message = reason
          FROM locked
         WHERE d.id = locked.id AND d.status = 'waiting';
    END IF;

    WITH locked AS (
             SELECT d.id
               FROM job_queue_dependency e JOIN job_queue d ON d.id = e.job_id
              WHERE e.depends_on = finished_id AND d.status = 'waiting'
              ORDER BY d.id
                FOR UPDATE OF d),
         released AS (
             UPDATE job_queue d
                SET waiting_for = d.waiting_for - 1,
                    status = CASE WHEN d.waiting_for <= 1 THEN 'pending' ELSE 'waiting' END
               FROM locked
              WHERE d.id = locked.id AND d.status = 'waiting'
             RETURNING d.queue, d.status)
    SELECT pg_catalog.count(pg_catalog.pg_notify(job_queue_channel(), q.queue)) INTO notified
      FROM (SELECT DISTINCT r.queue FROM released r WHERE r.status = 'pending') q;
END
$$;

CREATE OR REPLACE FUNCTION job_queue_resolve_dependents() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM job_queue_dependency_finished(NEW.id, NEW.job_type, NEW.status);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION job_queue_forget_dependencies() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF OLD.waiting_for IS NOT NULL THEN
        DELETE FROM job_queue_dependency WHERE job_id = OLD.id;
    END IF;
    IF OLD.has_dependents AND OLD.status NOT IN ('completed', 'failed', 'cancelled') THEN
        PERFORM job_queue_dependency_finished(OLD.id, OLD.job_type, CAST('deleted' AS text));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION job_queue_enqueue_after(
    depends_on            uuid[],
    job_type              text,
    payload               jsonb       DEFAULT '{}',
    on_dependency_failure text        DEFAULT 'cancel',
    queue                 text        DEFAULT 'default',
    priority              integer     DEFAULT 0,
    run_at                timestamptz DEFAULT NULL,
    max_retries           integer     DEFAULT 3,
    user_id               uuid        DEFAULT NULL,
    partition_key         text        DEFAULT NULL
) RETURNS uuid
    LANGUAGE plpgsql VOLATILE AS
$$
#variable_conflict use_column
DECLARE
    new_id       uuid := job_queue_uuid_v7();
    policy       text := coalesce(job_queue_enqueue_after.on_dependency_failure, 'cancel');
    dep_ids      uuid[];
    dep_types    text[];
    dep_statuses text[];
    missing      uuid[];
    unfinished   integer;
    failed_at    integer;
    reason       text;
BEGIN
    IF job_queue_enqueue_after.job_type IS NULL
       OR (job_queue_enqueue_after.job_type OPERATOR(pg_catalog.!~) CAST('^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AS text)
           OR pg_catalog.octet_length(job_queue_enqueue_after.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_after.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.queue IS NOT NULL
       AND (job_queue_enqueue_after.queue OPERATOR(pg_catalog.!~) CAST('^[A-Za-z_][A-Za-z0-9_-]*$' AS text)
            OR pg_catalog.octet_length(job_queue_enqueue_after.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_after.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue_after.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM job_queue_check_payload(job_queue_enqueue_after.payload);
    IF policy NOT IN ('cancel', 'run') THEN
        RAISE EXCEPTION 'expected on_dependency_failure to be cancel or run, got: %', pg_catalog.quote_literal(pg_catalog.left(policy, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.partition_key IS NOT NULL
       AND pg_catalog.length(job_queue_enqueue_after.partition_key) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'expected partition_key to be 1-255 characters, got: %',
            pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_after.partition_key, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.depends_on IS NULL
       OR (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(job_queue_enqueue_after.depends_on) d WHERE d IS NULL) > 0
       OR (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(job_queue_enqueue_after.depends_on) d)
          <> (SELECT pg_catalog.count(DISTINCT d) FROM pg_catalog.unnest(job_queue_enqueue_after.depends_on) d) THEN
        RAISE EXCEPTION 'expected depends_on to be distinct job ids, got: %',
            coalesce(pg_catalog.left(CAST(job_queue_enqueue_after.depends_on AS text), 200), 'null')
            USING ERRCODE = 'check_violation';
    END IF;

    FOR tries IN 1..10 LOOP
        BEGIN
            SELECT pg_catalog.array_agg(l.id ORDER BY l.id), pg_catalog.array_agg(l.job_type ORDER BY l.id),
                   pg_catalog.array_agg(l.status ORDER BY l.id)
              INTO dep_ids, dep_types, dep_statuses
              FROM (SELECT j.id, j.job_type, j.status
                      FROM job_queue j
                     WHERE j.id = ANY (job_queue_enqueue_after.depends_on)
                     ORDER BY j.id
                       FOR NO KEY UPDATE) l;
            EXIT;
        EXCEPTION WHEN deadlock_detected THEN
            IF tries = 10 THEN
                RAISE;
            END IF;
            PERFORM pg_catalog.pg_sleep(CAST(0.005 AS double precision)
                                        + pg_catalog.random() * CAST(0.02 AS double precision) * CAST(tries AS double precision));
        END;
    END LOOP;
    SELECT pg_catalog.array_agg(d ORDER BY d) INTO missing
      FROM pg_catalog.unnest(job_queue_enqueue_after.depends_on) d
     WHERE NOT (d = ANY (coalesce(dep_ids, CAST('{}' AS uuid[]))));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'expected depends_on to be ids of existing jobs, got: % (no such job)', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    UPDATE job_queue j SET has_dependents = true
     WHERE j.id = ANY (job_queue_enqueue_after.depends_on)
       AND j.status IN ('waiting', 'pending', 'processing')
       AND j.has_dependents IS NOT TRUE;

    SELECT pg_catalog.count(*) INTO unfinished FROM pg_catalog.unnest(dep_statuses) s WHERE s IN ('waiting', 'pending', 'processing');
    SELECT pg_catalog.min(s.n) INTO failed_at FROM pg_catalog.unnest(dep_statuses) WITH ORDINALITY AS s (status, n)
     WHERE s.status IN ('failed', 'cancelled');
    IF failed_at IS NOT NULL AND policy = 'cancel' THEN
        reason := pg_catalog.format('cancelled: its dependency %s/%s %s', dep_types[failed_at], dep_ids[failed_at],
                                    CASE dep_statuses[failed_at] WHEN 'failed' THEN 'failed' ELSE 'was cancelled' END);
    END IF;

    INSERT INTO job_queue AS j (id, job_type, payload, queue, priority, run_at, max_retries, user_id, partition_key,
                                status, waiting_for, on_dependency_failure, error_message, completed_at)
    VALUES (new_id,
            job_queue_enqueue_after.job_type,
            coalesce(job_queue_enqueue_after.payload, '{}'),
            coalesce(job_queue_enqueue_after.queue, 'default'),
            coalesce(job_queue_enqueue_after.priority, 0),
            coalesce(job_queue_enqueue_after.run_at, pg_catalog.now()),
            coalesce(job_queue_enqueue_after.max_retries, 3),
            job_queue_enqueue_after.user_id,
            job_queue_enqueue_after.partition_key,
            CASE WHEN reason IS NOT NULL THEN 'cancelled' WHEN unfinished > 0 THEN 'waiting' ELSE 'pending' END,
            CASE WHEN pg_catalog.cardinality(job_queue_enqueue_after.depends_on) > 0 THEN unfinished END,
            CASE WHEN pg_catalog.cardinality(job_queue_enqueue_after.depends_on) > 0 THEN policy END,
            reason,
            CASE WHEN reason IS NOT NULL THEN pg_catalog.now() END);
    INSERT INTO job_queue_dependency (job_id, depends_on)
    SELECT new_id, d FROM pg_catalog.unnest(job_queue_enqueue_after.depends_on) d;
    RETURN new_id;
END
$$;

-- ---- function search paths -------------------------------------------------------------------------

-- Pin every function's search_path to this schema (then pg_temp), as V1-V3 do.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_max_payload_bytes()',
        'job_queue_check_payload(jsonb)',
        'job_queue_check_inserted_payloads()',
        'job_queue_check_updated_payload()',
        'job_queue_uuid_v7()',
        'job_queue_channel()',
        'job_queue_notify_insert()',
        'job_queue_default_lease()',
        'job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)',
        'job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)',
        'job_queue_dependency_finished(uuid, text, text)',
        'job_queue_resolve_dependents()',
        'job_queue_forget_dependencies()',
        'job_queue_enqueue_after(uuid[], text, jsonb, text, text, integer, timestamptz, integer, uuid, text)'
    ] LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, pg_catalog.current_schema());
    END LOOP;
END
$$;
