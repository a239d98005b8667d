-- pgqueue V3: workflows (job dependencies and the 'waiting' status), global concurrency and rate
-- limits, and per-tenant fairness. Part of pgqueue's public SQL contract (see README, "The SQL
-- contract", "Workflows", "Limits" and "Fairness").
--
-- Plain SQL, like V1 and V2: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by
-- pgqueue's own migrator. Everything is created in the current schema (the first schema on
-- search_path), so `SET search_path = myschema;` first to choose another. Running it again changes
-- nothing.
--
-- Safe during a rolling upgrade: it adds only nullable columns without defaults (no table rewrite),
-- checks that every existing row already satisfies (NOT VALID: no scan under the lock), new tables,
-- functions and triggers. Workers of the previous version keep working against it: they never claim
-- a 'waiting' job (they claim 'pending' ones), and when they complete, fail or cancel a job, the
-- trigger below releases its dependents just as it does for this version. They do not know the
-- limits and fairness recorded in job_queue_policy, so they claim as before until they are upgraded.
-- Building job_queue_fair_idx reads the table once under the migration's lock (only rows with a
-- user_id or partition_key enter it); on a very large job_queue, create it beforehand with
-- CREATE INDEX CONCURRENTLY (the same definition) and this skips it.

-- ---- columns -------------------------------------------------------------------------------------

ALTER TABLE job_queue
    -- Dependencies not yet finished; NULL for a job that has none (that never had any).
    ADD COLUMN IF NOT EXISTS waiting_for           integer,
    -- What happens to this (waiting) job when a dependency fails for good or is cancelled:
    -- 'cancel' (also NULL) or 'run'.
    ADD COLUMN IF NOT EXISTS on_dependency_failure text,
    -- Some job depends on this one: only then does finishing it look for dependents (the trigger's
    -- WHEN clause reads this flag, so finishing every other job costs nothing more than before).
    ADD COLUMN IF NOT EXISTS has_dependents        boolean,
    -- The tenant for fair claiming; NULL = the seed's user_id.
    ADD COLUMN IF NOT EXISTS partition_key         text;

-- Dropped first so that a re-run ends with exactly these. NOT VALID, as in V2: every existing row
-- satisfies the new checks (the status and unique_states checks only admit one more value; the
-- other columns are new and NULL), so a scan of the whole table under ALTER TABLE's lock, which
-- would pause running workers, is spared. Every row inserted or updated from now on is checked.
ALTER TABLE job_queue
    DROP CONSTRAINT IF EXISTS job_queue_status_check,
    DROP CONSTRAINT IF EXISTS job_queue_unique_states_check,
    DROP CONSTRAINT IF EXISTS job_queue_dependencies_check,
    DROP CONSTRAINT IF EXISTS job_queue_partition_key_check;
ALTER TABLE job_queue
    ADD CONSTRAINT job_queue_status_check
        CHECK (status IN ('waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled')) NOT VALID,
    -- V2's check with 'waiting' admitted: a job that waits for dependencies holds its dedupe key while
    -- it waits ('waiting' is then among its unique_states), so that it can always become pending.
    ADD CONSTRAINT job_queue_unique_states_check
        CHECK (unique_states IS NULL
               OR cardinality(unique_states) = 0
               OR ('pending' = ANY (unique_states)
                   AND unique_states <@ ARRAY['waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled'])) NOT VALID,
    -- A waiting job always waits for something, so that no insert can leave a job waiting forever.
    ADD CONSTRAINT job_queue_dependencies_check
        CHECK ((waiting_for IS NULL OR waiting_for >= 0)
               AND (status <> 'waiting' OR coalesce(waiting_for, 0) > 0)
               AND (on_dependency_failure IS NULL OR on_dependency_failure IN ('cancel', 'run'))) NOT VALID,
    ADD CONSTRAINT job_queue_partition_key_check
        CHECK (partition_key IS NULL OR length(partition_key) BETWEEN 1 AND 255) NOT VALID;

-- ---- workflows -----------------------------------------------------------------------------------

-- One row per dependency: job_id waits for depends_on. Written by job_queue_enqueue_after() and by
-- pgqueue's enqueue, which check that depends_on exists and lock it; rows whose job_id is deleted
-- (pruned) go with it (job_queue_forget_dependencies). No foreign keys to job_queue on purpose: they
-- would put a trigger on every update of job_queue (claims, heartbeats), which this design avoids.
CREATE TABLE IF NOT EXISTS job_queue_dependency (
    job_id     uuid NOT NULL,
    depends_on uuid NOT NULL,
    -- Serves dependencies.sql (a job's dependencies) and job_queue_forget_dependencies().
    CONSTRAINT job_queue_dependency_pkey PRIMARY KEY (job_id, depends_on),
    CONSTRAINT job_queue_dependency_self_check CHECK (job_id <> depends_on)
);
-- Serves job_queue_dependency_finished(): the dependents of a job that just finished.
CREATE INDEX IF NOT EXISTS job_queue_dependency_depends_on_idx ON job_queue_dependency (depends_on);

-- A job finished for good (finished_status 'completed', 'failed' or 'cancelled'; 'deleted' when an
-- unfinished job was deleted): release its waiting dependents, in the same transaction.
--  * completed: each waiting dependent waits for one dependency fewer; the one that reaches zero
--    becomes 'pending' and its queue is notified.
--  * failed, cancelled or deleted: waiting dependents whose on_dependency_failure is 'cancel' (or
--    NULL) are cancelled, and so are, transitively, their own waiting dependents that cancel, in one
--    statement (so that a long chain needs no deep recursion); those that 'run' count it as finished,
--    like a completion, and run once every dependency has finished, to look at the failure
--    themselves.
-- Why exactly one transition when the last two dependencies finish at once on two workers: each
-- decrement is an UPDATE of the dependent's row, which takes the row's lock; the second waits for
-- the first's transaction to end and then re-reads the row as committed (READ COMMITTED re-checks
-- an updated row), so it decrements 1 to 0 where the first decremented 2 to 1. Only one of them
-- sees zero. Rows are locked in id order, so two such transactions cannot deadlock over one job's
-- dependents.
CREATE OR REPLACE FUNCTION job_queue_dependency_finished(finished_id uuid, finished_type text, finished_status text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    reason   text;
    notified bigint;
BEGIN
    IF finished_status <> 'completed' THEN
        reason := format('cancelled: its dependency %s/%s %s', finished_type, finished_id,
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
           SET status = 'cancelled', completed_at = now(), error_message = reason
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
    SELECT count(pg_notify(job_queue_channel(), q.queue)) INTO notified
      FROM (SELECT DISTINCT queue FROM released WHERE status = 'pending') q;
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

-- Fires only for a job that has dependents and just reached a final status, however it got there:
-- pgqueue's complete, fail, retry, rescue or cancel, a previous version's worker, or a processor
-- outside pgqueue. For every other update the WHEN clause is false and no function runs.
DROP TRIGGER IF EXISTS job_queue_resolve_dependents ON job_queue;
CREATE TRIGGER job_queue_resolve_dependents
    AFTER UPDATE OF status ON job_queue
    FOR EACH ROW
    WHEN (NEW.has_dependents
          AND NEW.status IN ('completed', 'failed', 'cancelled')
          AND OLD.status NOT IN ('completed', 'failed', 'cancelled'))
    EXECUTE FUNCTION job_queue_resolve_dependents();

-- A deleted job takes its dependency rows along; an unfinished job that is deleted (by hand: the
-- pruner deletes finished jobs only) counts for its dependents as cancelled, so that none waits forever.
CREATE OR REPLACE FUNCTION job_queue_forget_dependencies() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF OLD.waiting_for IS NOT NULL THEN
        DELETE FROM job_queue_dependency WHERE job_id = OLD.id;
    END IF;
    IF OLD.has_dependents AND OLD.status NOT IN ('completed', 'failed', 'cancelled') THEN
        PERFORM job_queue_dependency_finished(OLD.id, OLD.job_type, 'deleted');
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS job_queue_forget_dependencies ON job_queue;
CREATE TRIGGER job_queue_forget_dependencies
    AFTER DELETE ON job_queue
    FOR EACH ROW
    WHEN (OLD.waiting_for IS NOT NULL OR OLD.has_dependents)
    EXECUTE FUNCTION job_queue_forget_dependencies();

-- Enqueue a job that runs once the jobs depends_on have completed, for producers that are not Java.
-- Returns the new job's id. It is 'waiting' until then ('pending' at once if they all completed
-- already). If one of them fails for good or is cancelled, on_dependency_failure decides: 'cancel'
-- (the default) cancels this job, and its own dependents that cancel; 'run' runs it anyway once all
-- have finished. Every id must be an existing job (it is locked until your transaction ends, so keep
-- that short when it is running). Example:
--   SELECT job_queue_enqueue_after(ARRAY['…', '…']::uuid[], 'send-report', '{"reportId": "…"}');
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
       OR (job_queue_enqueue_after.job_type !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' OR octet_length(job_queue_enqueue_after.job_type) > 128) THEN
        RAISE EXCEPTION 'expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter or digit, got: %',
            coalesce(quote_literal(left(job_queue_enqueue_after.job_type, 80)), 'null')
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.queue IS NOT NULL
       AND (job_queue_enqueue_after.queue !~ '^[A-Za-z_][A-Za-z0-9_-]*$' OR octet_length(job_queue_enqueue_after.queue) > 63) THEN
        RAISE EXCEPTION 'expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _, got: %',
            quote_literal(left(job_queue_enqueue_after.queue, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.max_retries < 0 THEN
        RAISE EXCEPTION 'expected max_retries to be >= 0, got: %', job_queue_enqueue_after.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM job_queue_check_payload(job_queue_enqueue_after.payload);
    IF policy NOT IN ('cancel', 'run') THEN
        RAISE EXCEPTION 'expected on_dependency_failure to be cancel or run, got: %', quote_literal(left(policy, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.partition_key IS NOT NULL
       AND length(job_queue_enqueue_after.partition_key) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'expected partition_key to be 1-255 characters, got: %',
            quote_literal(left(job_queue_enqueue_after.partition_key, 80))
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_enqueue_after.depends_on IS NULL
       OR array_position(job_queue_enqueue_after.depends_on, NULL) IS NOT NULL
       OR cardinality(job_queue_enqueue_after.depends_on)
          <> (SELECT count(DISTINCT d) FROM unnest(job_queue_enqueue_after.depends_on) d) THEN
        RAISE EXCEPTION 'expected depends_on to be distinct job ids, got: %',
            coalesce(left(CAST(job_queue_enqueue_after.depends_on AS text), 200), 'null')
            USING ERRCODE = 'check_violation';
    END IF;

    -- Lock the dependencies (in id order, so that two enqueues cannot deadlock) so that none finishes
    -- between reading its status here and this transaction's commit, when the trigger can first see
    -- the new job; then mark the unfinished ones as having dependents, so that finishing them
    -- releases this job. Workers lock the rows of a batch of outcomes in id order too; should a
    -- deadlock still happen (a caller's own transaction holding other rows, say), the block's
    -- subtransaction releases what it locked and the lock is tried again after a short pause.
    FOR tries IN 1..10 LOOP
        BEGIN
            SELECT array_agg(l.id ORDER BY l.id), array_agg(l.job_type ORDER BY l.id), array_agg(l.status ORDER BY l.id)
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
            PERFORM pg_sleep(0.005 + random() * 0.02 * tries);
        END;
    END LOOP;
    SELECT array_agg(d ORDER BY d) INTO missing
      FROM unnest(job_queue_enqueue_after.depends_on) d
     WHERE NOT (d = ANY (coalesce(dep_ids, '{}')));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'expected depends_on to be ids of existing jobs, got: % (no such job)', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    UPDATE job_queue j SET has_dependents = true
     WHERE j.id = ANY (job_queue_enqueue_after.depends_on)
       AND j.status IN ('waiting', 'pending', 'processing')
       AND j.has_dependents IS NOT TRUE;

    SELECT count(*) INTO unfinished FROM unnest(dep_statuses) s WHERE s IN ('waiting', 'pending', 'processing');
    SELECT min(n) INTO failed_at FROM unnest(dep_statuses) WITH ORDINALITY AS s (status, n)
     WHERE s.status IN ('failed', 'cancelled');
    IF failed_at IS NOT NULL AND policy = 'cancel' THEN
        reason := format('cancelled: its dependency %s/%s %s', dep_types[failed_at], dep_ids[failed_at],
                         CASE dep_statuses[failed_at] WHEN 'failed' THEN 'failed' ELSE 'was cancelled' END);
    END IF;

    INSERT INTO job_queue AS j (id, job_type, payload, queue, priority, run_at, max_retries, user_id, partition_key,
                                status, waiting_for, on_dependency_failure, error_message, completed_at)
    VALUES (new_id,
            job_queue_enqueue_after.job_type,
            coalesce(job_queue_enqueue_after.payload, '{}'),
            coalesce(job_queue_enqueue_after.queue, 'default'),
            coalesce(job_queue_enqueue_after.priority, 0),
            coalesce(job_queue_enqueue_after.run_at, now()),
            coalesce(job_queue_enqueue_after.max_retries, 3),
            job_queue_enqueue_after.user_id,
            job_queue_enqueue_after.partition_key,
            CASE WHEN reason IS NOT NULL THEN 'cancelled' WHEN unfinished > 0 THEN 'waiting' ELSE 'pending' END,
            CASE WHEN cardinality(job_queue_enqueue_after.depends_on) > 0 THEN unfinished END,
            CASE WHEN cardinality(job_queue_enqueue_after.depends_on) > 0 THEN policy END,
            reason,
            CASE WHEN reason IS NOT NULL THEN now() END);
    INSERT INTO job_queue_dependency (job_id, depends_on)
    SELECT new_id, d FROM unnest(job_queue_enqueue_after.depends_on) d;
    RETURN new_id;
END
$$;

-- ---- limits and fairness -------------------------------------------------------------------------

-- How workers claim from a queue, shared by all of them: a global concurrency limit, a rate limit
-- and fairness, for the whole queue (job_type '*') or one job type in it. Workers write the limits
-- they declare (Worker.Builder.globalConcurrency, rateLimit, fairness) and read this table at start
-- and every few seconds; change it by SQL as well (see README, "Limits"). A NULL limit is no limit.
CREATE TABLE IF NOT EXISTS job_queue_policy (
    queue         text        NOT NULL,
    job_type      text        NOT NULL DEFAULT '*',
    max_running   integer,
    max_starts    integer,
    starts_period interval,
    fair          boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Serves policy-list.sql, policy-capacity.sql and the upsert of policy-put.sql.
    CONSTRAINT job_queue_policy_pkey PRIMARY KEY (queue, job_type),
    CONSTRAINT job_queue_policy_queue_check CHECK (queue ~ '^[A-Za-z_][A-Za-z0-9_-]*$' AND octet_length(queue) <= 63),
    CONSTRAINT job_queue_policy_job_type_check CHECK (job_type = '*' OR (job_type ~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AND octet_length(job_type) <= 128)),
    CONSTRAINT job_queue_policy_max_running_check CHECK (max_running > 0),
    CONSTRAINT job_queue_policy_rate_check
        CHECK ((max_starts IS NULL) = (starts_period IS NULL) AND max_starts > 0 AND starts_period > interval '0'),
    CONSTRAINT job_queue_policy_fair_check CHECK (NOT fair OR job_type = '*')
);

-- One row per job started under a limit: how the limited claim counts what runs (rows whose job is
-- still processing under the same lease token) and what started within the rate period. The claim
-- that adds rows also deletes those no longer needed, so the table holds about the jobs running
-- under limits plus the starts of the latest period.
CREATE TABLE IF NOT EXISTS job_queue_policy_start (
    queue       text        NOT NULL,
    job_type    text        NOT NULL,
    started_at  timestamptz NOT NULL,
    job_id      uuid        NOT NULL,
    lease_token uuid        NOT NULL,
    -- Serves policy-capacity.sql: a limit's starts, by time.
    CONSTRAINT job_queue_policy_start_pkey PRIMARY KEY (queue, job_type, started_at, job_id)
);

-- Serves claim-fair.sql: pending jobs of a queue by partition key (the partition_key, else the
-- seed's user_id), each key's jobs in claim order, so that a fair claim finds the keys that have
-- due jobs with one index descent each and takes the first jobs of each. Jobs with neither column
-- are not in it, so it costs them (and every queue that is not fair and has no user ids) nothing.
CREATE INDEX IF NOT EXISTS job_queue_fair_idx
    ON job_queue (queue, (coalesce(partition_key, CAST(user_id AS text))), priority, run_at, id)
    WHERE status = 'pending' AND (partition_key IS NOT NULL OR user_id IS NOT NULL);

-- ---- function search paths and comments ----------------------------------------------------------

-- Pin the new functions' search_path to this schema (then pg_temp), as V1 and V2 do for their own.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_dependency_finished(uuid, text, text)',
        'job_queue_resolve_dependents()',
        'job_queue_forget_dependencies()',
        'job_queue_enqueue_after(uuid[], text, jsonb, text, text, integer, timestamptz, integer, uuid, text)'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
    END LOOP;
END
$$;

COMMENT ON COLUMN job_queue.status IS 'waiting | pending | processing | completed | failed | cancelled';
COMMENT ON COLUMN job_queue.waiting_for IS 'dependencies not yet finished (job_queue_dependency); NULL = none';
COMMENT ON COLUMN job_queue.on_dependency_failure IS 'when a dependency fails for good or is cancelled: cancel (NULL) or run';
COMMENT ON COLUMN job_queue.has_dependents IS 'some job depends on this one (job_queue_dependency)';
COMMENT ON COLUMN job_queue.partition_key IS 'the tenant for fair claiming; NULL = user_id';
COMMENT ON TABLE job_queue_dependency IS 'pgqueue: job_id waits for depends_on. Written by job_queue_enqueue_after() and pgqueue.';
COMMENT ON TABLE job_queue_policy IS 'pgqueue: global concurrency limits, rate limits and fairness per queue (job_type ''*'') or job type.';
COMMENT ON TABLE job_queue_policy_start IS 'pgqueue: jobs started under a limit, for counting; maintained by the claim.';
