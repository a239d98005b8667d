-- pgqueue V5: adoption of seed tables whose status check has its own name, the reserved recurring:
-- key prefix, a distinct error for a dedupe key held by a job the caller cannot see, and a linear
-- cascade when the first job of a long chain fails. Part of pgqueue's public SQL contract (see README).
--
-- Plain SQL, like V1-V3: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Functions written here call built-ins as pg_catalog.<name> and compare with OPERATOR(pg_catalog.<op>),
-- so that no function or operator another role creates in this schema can stand in for them.
--
-- Safe during a rolling upgrade: it drops foreign CHECK constraints (no scan), adds one trigger that
-- fires only for dedupe keys starting with 'recurring:', and replaces two functions with versions
-- that behave the same for every call that worked before.

-- ---- adoption: a seed's status check under any name ------------------------------------------------

-- V1 replaces a seed's status check only when it has PostgreSQL's default name
-- (job_queue_status_check). A seed table created with its own name for it, e.g.
--   CONSTRAINT job_status_valid CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
-- kept rejecting 'cancelled' and 'waiting'. pgqueue defines the status vocabulary
-- (job_queue_status_check), so every other CHECK on job_queue that constrains status is dropped,
-- with a NOTICE naming it. pgqueue's own checks that read status are kept.
DO
$$
DECLARE
    foreign_check record;
BEGIN
    FOR foreign_check IN
        SELECT c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS definition
          FROM pg_catalog.pg_constraint c
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid
         WHERE c.conrelid OPERATOR(pg_catalog.=) CAST(pg_catalog.format('%I.job_queue', pg_catalog.current_schema()) AS pg_catalog.regclass)
           AND c.contype OPERATOR(pg_catalog.=) CAST('c' AS "char")
           AND a.attname OPERATOR(pg_catalog.=) CAST('status' AS name)
           AND a.attnum OPERATOR(pg_catalog.=) ANY (c.conkey)
           AND NOT (c.conname OPERATOR(pg_catalog.=) ANY (CAST(ARRAY['job_queue_status_check', 'job_queue_lease_check',
                                                                     'job_queue_dependencies_check'] AS name[])))
         ORDER BY c.conname
    LOOP
        RAISE NOTICE 'pgqueue: dropping check constraint % of job_queue (%): it constrains status, whose values pgqueue defines in job_queue_status_check',
            foreign_check.conname, foreign_check.definition;
        EXECUTE pg_catalog.format('ALTER TABLE %I.job_queue DROP CONSTRAINT %I', pg_catalog.current_schema(), foreign_check.conname);
    END LOOP;
END
$$;

-- ---- the recurring: key prefix is reserved -----------------------------------------------------------

-- Each tick of a recurring job is a job whose dedupe key is 'recurring:<name>@<tick>', unique in every
-- status: a row holding such a key stops that tick from being enqueued. Only roles that may update
-- job_queue.status (workers, which enqueue the ticks, and the owner) may write such a key: they can
-- stop any job anyway. A producer's INSERT, COPY or job_queue_enqueue(...) with one is rejected.
-- A CHECK constraint cannot see the role, hence a trigger; its WHEN clause keeps it from running for
-- any other key.
CREATE OR REPLACE FUNCTION job_queue_reserve_recurring_keys() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NOT pg_catalog.has_column_privilege(TG_RELID, CAST('status' AS text), CAST('UPDATE' AS text)) THEN
        RAISE EXCEPTION 'expected dedupe_key not to start with recurring: (reserved for the ticks of recurring jobs, which workers enqueue), got: %',
            pg_catalog.quote_literal(pg_catalog.left(NEW.dedupe_key, 80))
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS job_queue_reserve_recurring_keys ON job_queue;
CREATE TRIGGER job_queue_reserve_recurring_keys
    BEFORE INSERT OR UPDATE OF dedupe_key ON job_queue
    FOR EACH ROW
    WHEN (pg_catalog.starts_with(NEW.dedupe_key, 'recurring:'))
    EXECUTE FUNCTION job_queue_reserve_recurring_keys();

-- ---- a dedupe key held by a job the caller cannot see ------------------------------------------------

-- V2's job_queue_enqueue_unique, with one change at the end: dedupe keys are unique per job type in
-- the whole schema, whoever enqueued the job. Where row-level security hides jobs (the optional roles
-- script), a producer's key may be held by another producer's job, which its statements cannot see:
-- each try conflicts and finds no holder. That is not a race a retry can win, so instead of V2's
-- serialization_failure (40001, "try again") it raises unique_violation (23505) saying so.
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
       OR (job_queue_enqueue_unique.job_type OPERATOR(pg_catalog.!~) '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$'
           OR pg_catalog.octet_length(job_queue_enqueue_unique.job_type) OPERATOR(pg_catalog.>) 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.queue IS NOT NULL
       AND (job_queue_enqueue_unique.queue OPERATOR(pg_catalog.!~) '^[A-Za-z_][A-Za-z0-9_-]*$'
            OR pg_catalog.octet_length(job_queue_enqueue_unique.queue) OPERATOR(pg_catalog.>) 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.max_retries OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue_unique.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.dedupe_key IS NULL
       OR pg_catalog.length(job_queue_enqueue_unique.dedupe_key) OPERATOR(pg_catalog.<) 1
       OR pg_catalog.length(job_queue_enqueue_unique.dedupe_key) OPERATOR(pg_catalog.>) 255 THEN
        RAISE EXCEPTION 'expected dedupe_key to be 1-255 characters, got: %',
            coalesce(pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.dedupe_key, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_states IS NOT NULL
       AND NOT ('pending' OPERATOR(pg_catalog.=) ANY (job_queue_enqueue_unique.unique_states)
                AND job_queue_enqueue_unique.unique_states
                    OPERATOR(pg_catalog.<@) CAST(ARRAY['pending', 'processing', 'completed', 'failed', 'cancelled'] AS text[])) THEN
        RAISE EXCEPTION 'expected unique_states to be statuses among pending, processing, completed, failed and cancelled, including pending, got: %',
            job_queue_enqueue_unique.unique_states
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_unique.unique_for OPERATOR(pg_catalog.<=) CAST('0' AS interval) THEN
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
                coalesce(job_queue_enqueue_unique.payload, CAST('{}' AS jsonb)),
                coalesce(job_queue_enqueue_unique.queue, CAST('default' AS text)),
                coalesce(job_queue_enqueue_unique.priority, 0),
                coalesce(job_queue_enqueue_unique.run_at, pg_catalog.now()),
                coalesce(job_queue_enqueue_unique.max_retries, 3),
                job_queue_enqueue_unique.user_id,
                job_queue_enqueue_unique.dedupe_key,
                job_queue_enqueue_unique.unique_states,
                pg_catalog.now() OPERATOR(pg_catalog.+) job_queue_enqueue_unique.unique_for)
        ON CONFLICT (job_type, dedupe_key)
            WHERE dedupe_key IS NOT NULL
              AND status OPERATOR(pg_catalog.=) ANY (coalesce(unique_states, CAST('{pending,processing}' AS text[])))
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
         WHERE h.job_type OPERATOR(pg_catalog.=) job_queue_enqueue_unique.job_type
           AND h.dedupe_key OPERATOR(pg_catalog.=) job_queue_enqueue_unique.dedupe_key
           AND h.dedupe_key IS NOT NULL
           AND h.status OPERATOR(pg_catalog.=) ANY (coalesce(h.unique_states, CAST('{pending,processing}' AS text[])));
        IF held_id IS NOT NULL THEN
            IF held_until IS NULL OR held_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN
                job_id := held_id;
                duplicate := true;
                RETURN NEXT;
                RETURN;
            END IF;
            UPDATE job_queue h SET unique_states = CAST('{}' AS text[])
             WHERE h.id OPERATOR(pg_catalog.=) held_id AND h.unique_until OPERATOR(pg_catalog.<=) pg_catalog.now();
        END IF;
    END LOOP;
    IF pg_catalog.row_security_active(CAST(pg_catalog.format('%I.job_queue', pg_catalog.current_schema()) AS pg_catalog.regclass)) THEN
        RAISE EXCEPTION 'could not enqueue job % with dedupe key %: the key is held by a job this role cannot see (row-level security hides it)',
            job_queue_enqueue_unique.job_type, pg_catalog.quote_literal(pg_catalog.left(job_queue_enqueue_unique.dedupe_key, 80))
            USING ERRCODE = 'unique_violation',
                  DETAIL = 'Dedupe keys are unique per job type across the whole schema, whoever enqueued the job holding them.',
                  HINT = 'Use keys no other producer uses (e.g. prefixed with your own name); trying again does not help.';
    END IF;
    RAISE EXCEPTION 'could not enqueue job % with dedupe key %: the job holding the key kept changing; try again',
        job_queue_enqueue_unique.job_type, pg_catalog.quote_literal(job_queue_enqueue_unique.dedupe_key)
        USING ERRCODE = 'serialization_failure';
END
$$;

-- ---- a linear cascade when a dependency fails ---------------------------------------------------------

-- V3's job_queue_dependency_finished, with the same semantics, made linear in the number of jobs a
-- failure cancels. V3's recursive query joined each step's few rows to job_queue_dependency with a
-- hash join that read the whole dependency table at every step (a chain of n jobs: n steps, n^2 rows
-- read), and each job it cancelled ran the query again from its trigger. Here each step looks up the
-- next dependents through job_queue_dependency_depends_on_idx (the LATERAL subquery with OFFSET 0 is
-- never turned into a join, so it stays an index look-up per row), and a job with no waiting
-- dependent (every job of the cascade once it is cancelled) returns after one index look-up.
CREATE OR REPLACE FUNCTION job_queue_dependency_finished(finished_id uuid, finished_type text, finished_status text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    reason     text;
    doomed_ids uuid[];
    notified   bigint;
BEGIN
    IF NOT EXISTS (SELECT
                     FROM job_queue_dependency e
                     JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
                    WHERE e.depends_on OPERATOR(pg_catalog.=) finished_id
                      AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text)) THEN
        RETURN;
    END IF;

    IF finished_status OPERATOR(pg_catalog.<>) CAST('completed' AS text) THEN
        reason := pg_catalog.format('cancelled: its dependency %s/%s %s', finished_type, finished_id,
                         CASE WHEN finished_status OPERATOR(pg_catalog.=) CAST('failed' AS text) THEN 'failed'
                              WHEN finished_status OPERATOR(pg_catalog.=) CAST('cancelled' AS text) THEN 'was cancelled'
                              ELSE 'was deleted before it finished' END);
        WITH RECURSIVE doomed (id) AS (
                 SELECT e.job_id
                   FROM job_queue_dependency e
                   JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
                  WHERE e.depends_on OPERATOR(pg_catalog.=) finished_id
                    AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text)
                    AND (d.on_dependency_failure IS NULL OR d.on_dependency_failure OPERATOR(pg_catalog.<>) CAST('run' AS text))
                 UNION
                 SELECT n.job_id
                   FROM doomed x
                  CROSS JOIN LATERAL (
                         SELECT e.job_id
                           FROM job_queue_dependency e
                           JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
                          WHERE e.depends_on OPERATOR(pg_catalog.=) x.id
                            AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text)
                            AND (d.on_dependency_failure IS NULL OR d.on_dependency_failure OPERATOR(pg_catalog.<>) CAST('run' AS text))
                         OFFSET 0) n)
        SELECT pg_catalog.array_agg(doomed.id) INTO doomed_ids FROM doomed;

        IF doomed_ids IS NOT NULL THEN
            WITH locked AS (
                     SELECT d.id
                       FROM job_queue d
                      WHERE d.id OPERATOR(pg_catalog.=) ANY (doomed_ids)
                      ORDER BY d.id
                        FOR UPDATE)
            UPDATE job_queue d
               SET status = 'cancelled', completed_at = pg_catalog.now(), error_message = reason
              FROM locked
             WHERE d.id OPERATOR(pg_catalog.=) locked.id AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text);
        END IF;
    END IF;

    WITH locked AS (
             SELECT d.id
               FROM job_queue_dependency e
               JOIN job_queue d ON d.id OPERATOR(pg_catalog.=) e.job_id
              WHERE e.depends_on OPERATOR(pg_catalog.=) finished_id AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text)
              ORDER BY d.id
                FOR UPDATE OF d),
         released AS (
             UPDATE job_queue d
                SET waiting_for = d.waiting_for OPERATOR(pg_catalog.-) 1,
                    status = CASE WHEN d.waiting_for OPERATOR(pg_catalog.<=) 1 THEN 'pending' ELSE 'waiting' END
               FROM locked
              WHERE d.id OPERATOR(pg_catalog.=) locked.id AND d.status OPERATOR(pg_catalog.=) CAST('waiting' AS text)
             RETURNING d.queue, d.status)
    SELECT pg_catalog.count(pg_catalog.pg_notify(job_queue_channel(), q.queue)) INTO notified
      FROM (SELECT DISTINCT r.queue FROM released r WHERE r.status OPERATOR(pg_catalog.=) CAST('pending' AS text)) q;
END
$$;

-- ---- function search paths and comments ----------------------------------------------------------

-- Pin the functions' search_path to this schema (then pg_temp), as V1-V3 do for their own.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_reserve_recurring_keys()',
        'job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)',
        'job_queue_dependency_finished(uuid, text, text)'
    ] LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, pg_catalog.current_schema());
    END LOOP;
END
$$;

COMMENT ON COLUMN job_queue.dedupe_key IS 'with job_type, unique among jobs whose status is in unique_states (job_queue_dedupe_idx), across the schema whoever enqueued them; recurring:... is reserved for recurring jobs';
