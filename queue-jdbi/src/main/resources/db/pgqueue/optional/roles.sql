-- pgqueue, optional: least-privilege roles for a job_queue schema. Not a versioned migration: role
-- names belong to the deployment. Run it after the migrations, in the queue's schema
-- (SET search_path = myschema; first), as the role that owns job_queue (the one that ran the
-- migrations; it needs no superuser). Running it again changes nothing. To use other role names,
-- replace pgqueue_producer and pgqueue_worker throughout.
--
--   pgqueue_producer  enqueues (job_queue_enqueue(...), or INSERT of the seed's columns) and reads
--                     the jobs it enqueued itself, nothing else: it cannot read other producers'
--                     payloads, change a status, delete, or alter or drop anything. What it
--                     enqueues is bounded (job_queue_producer_check below): priority between -1000
--                     and 1000, max_retries between 0 and 100, run_at finite, at most 1 hour in the
--                     past and at most 365,000 days ahead, created_at the database's clock at the
--                     insert, user_id NULL or one the owner lets it use (job_queue_producer_user).
--                     To change a range, edit it in both job_queue_producer_check and the policy
--                     job_queue_producer_insert, and run this again.
--   pgqueue_worker    runs the worker: claims, completes, retries, rescues, prunes (SELECT, INSERT,
--                     UPDATE, DELETE on job_queue), LISTENs; no DDL. Also the role for operators: the
--                     admin API's functions and views (V6, docs/admin.md) are granted to it.
--   the owner         runs migrations and this script; the only role with DDL rights on the queue.
--
-- Both are NOLOGIN group roles: grant them to your login roles, e.g.
--   GRANT pgqueue_producer TO api_service;  GRANT pgqueue_worker TO image_worker;
-- Creating them needs CREATEROLE; if your role may not, have them created first (CREATE ROLE
-- pgqueue_producer NOLOGIN; ...) and this script only grants.
--
-- No pgqueue function runs with elevated rights but job_queue_max_payload_bytes(), which only reads
-- the owner's payload limit (job_queue_setting), and the two triggers' functions that check payloads
-- against it: every other one is SECURITY INVOKER (the caller's
-- own privileges and row-level security apply inside it). Each pins its search_path to this schema,
-- then pg_temp, and calls built-ins as pg_catalog.<name>, so a caller's search_path cannot
-- substitute a table, function or operator.

DO
$$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgqueue_producer') THEN
        CREATE ROLE pgqueue_producer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgqueue_worker') THEN
        CREATE ROLE pgqueue_worker NOLOGIN;
    END IF;
END
$$;

-- Who enqueued each job: the role that inserted it (a producer reads only its own). Existing rows
-- are attributed to the role running this script.
ALTER TABLE job_queue ADD COLUMN IF NOT EXISTS enqueued_by text NOT NULL DEFAULT current_user;
COMMENT ON COLUMN job_queue.enqueued_by IS 'the role that enqueued the job (optional roles script)';

-- Nothing for PUBLIC; functions are executable by PUBLIC unless revoked.
REVOKE ALL ON TABLE job_queue FROM PUBLIC;
REVOKE ALL ON FUNCTION job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                       job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                       job_queue_uuid_v7(), job_queue_channel(), job_queue_max_payload_bytes(),
                       job_queue_max_payload_bytes_constant(), job_queue_check_payload(jsonb), job_queue_notify_insert()
    FROM PUBLIC;

DO
$$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pgqueue_producer, pgqueue_worker', current_schema());
    IF to_regclass('pgqueue_schema_history') IS NOT NULL THEN
        -- Services that start with migrate(false) check the version they run against.
        REVOKE ALL ON TABLE pgqueue_schema_history FROM PUBLIC;
        GRANT SELECT ON TABLE pgqueue_schema_history TO pgqueue_producer, pgqueue_worker;
    END IF;
END
$$;

-- Producer: insert the enqueue columns only (status, attempts, leases and enqueued_by take their
-- defaults), read through the row-level security policies below.
GRANT SELECT ON TABLE job_queue TO pgqueue_producer;
GRANT INSERT (id, job_type, payload, queue, priority, run_at, max_retries, user_id, created_at,
              dedupe_key, unique_states, unique_until, trace_context)
    ON TABLE job_queue TO pgqueue_producer;
GRANT EXECUTE ON FUNCTION job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                          job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                          job_queue_uuid_v7(), job_queue_channel(), job_queue_max_payload_bytes(),
                          job_queue_check_payload(jsonb)
    TO pgqueue_producer;

-- Worker: the claim/complete/rescue/prune statements.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE job_queue TO pgqueue_worker;
GRANT EXECUTE ON FUNCTION job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                          job_queue_enqueue_unique(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval),
                          job_queue_uuid_v7(), job_queue_channel(), job_queue_max_payload_bytes(),
                          job_queue_check_payload(jsonb)
    TO pgqueue_worker;

-- Workflows, limits and fairness (V3): the worker releases dependents, records starts under rate
-- limits and stores the limits it declares. Producers enqueue plain jobs; a job with dependencies
-- locks its dependencies' rows, which needs UPDATE rights, so enqueue workflows from a worker-role
-- service (or grant that service pgqueue_worker).
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE job_queue_dependency, job_queue_policy, job_queue_policy_start
    TO pgqueue_worker;
REVOKE ALL ON TABLE job_queue_dependency, job_queue_policy, job_queue_policy_start FROM PUBLIC;

-- Which user_id values a producer may give its jobs: the seed's user_id is the tenant that
-- supabase-rls.sql shows a job to and that fair claiming partitions by, so a producer must not set
-- another tenant's. A producer may set user_id when a row here names it (or a role it is a member
-- of, such as pgqueue_producer) with that user_id, or with user_id NULL for any user id: e.g.
--   INSERT INTO job_queue_producer_user (producer) VALUES ('api_service');           -- any user
--   INSERT INTO job_queue_producer_user (producer, user_id) VALUES ('tenant_a', '5f1e…'); -- this one
-- Without a row, a producer's jobs have no user_id. Maintained by the owner; a producer reads the
-- rows that apply to it (the insert policy needs to).
CREATE TABLE IF NOT EXISTS job_queue_producer_user (
    producer text NOT NULL,
    user_id  uuid
);
-- Serves job_queue_producer_check(): the rows of one producer role.
CREATE UNIQUE INDEX IF NOT EXISTS job_queue_producer_user_idx ON job_queue_producer_user (producer, user_id);
CREATE UNIQUE INDEX IF NOT EXISTS job_queue_producer_user_any_idx ON job_queue_producer_user (producer) WHERE user_id IS NULL;
COMMENT ON TABLE job_queue_producer_user IS 'pgqueue: the user_id values a producer role may enqueue jobs for (NULL: any); roles.sql';
REVOKE ALL ON TABLE job_queue_producer_user FROM PUBLIC;
GRANT SELECT ON TABLE job_queue_producer_user TO pgqueue_producer, pgqueue_worker;
ALTER TABLE job_queue_producer_user ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS job_queue_producer_user_own ON job_queue_producer_user;
CREATE POLICY job_queue_producer_user_own ON job_queue_producer_user FOR SELECT TO pgqueue_producer, pgqueue_worker
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) producer AND pg_catalog.pg_has_role(r.oid, 'MEMBER')));

-- The bounds of what a producer enqueues, checked by its insert policy (so for job_queue_enqueue(),
-- plain INSERTs, COPY and pgqueue's Java enqueue alike). Raises an error naming the value, rather
-- than the policy's bare "violates row-level security"; returns true otherwise. The worker role and
-- the owner are not bound (retries, recurring jobs and workflows are theirs). Runs with the caller's
-- rights; its search_path is pinned below, and every function and operator it uses is pg_catalog's.
CREATE OR REPLACE FUNCTION job_queue_producer_check(priority integer, run_at timestamptz, max_retries integer,
                                                    created_at timestamptz, user_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE AS
$$
BEGIN
    IF job_queue_producer_check.priority OPERATOR(pg_catalog.<) -1000
       OR job_queue_producer_check.priority OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'expected priority to be between -1000 and 1000 (a producer''s range, roles.sql), got: %',
            job_queue_producer_check.priority
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_producer_check.max_retries OPERATOR(pg_catalog.<) 0
       OR job_queue_producer_check.max_retries OPERATOR(pg_catalog.>) 100 THEN
        RAISE EXCEPTION 'expected max_retries to be between 0 and 100 (a producer''s range, roles.sql), got: %',
            job_queue_producer_check.max_retries
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT pg_catalog.isfinite(job_queue_producer_check.run_at)
       OR job_queue_producer_check.run_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) CAST('1 hour' AS pg_catalog.interval))
       OR job_queue_producer_check.run_at OPERATOR(pg_catalog.>) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) CAST('365000 days' AS pg_catalog.interval)) THEN
        RAISE EXCEPTION 'expected run_at to be at most 1 hour in the past and 365000 days ahead (a producer''s range, roles.sql), got: %',
            job_queue_producer_check.run_at
            USING ERRCODE = 'check_violation';
    END IF;
    -- The default (now()), or pgqueue's enqueue's statement_timestamp(): no earlier than the
    -- transaction's start, no later than this check.
    IF job_queue_producer_check.created_at OPERATOR(pg_catalog.<) pg_catalog.now()
       OR job_queue_producer_check.created_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp() THEN
        RAISE EXCEPTION 'expected created_at to be the time of the insert (leave it to its default), got: %',
            job_queue_producer_check.created_at
            USING ERRCODE = 'check_violation';
    END IF;
    IF job_queue_producer_check.user_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM job_queue_producer_user p
                          JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) p.producer
                        WHERE pg_catalog.pg_has_role(r.oid, 'MEMBER')
                          AND (p.user_id IS NULL OR p.user_id OPERATOR(pg_catalog.=) job_queue_producer_check.user_id)) THEN
        RAISE EXCEPTION 'expected user_id to be one that role % may enqueue for (job_queue_producer_user, roles.sql), got: %',
            current_user, job_queue_producer_check.user_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN true;
END
$$;
DO
$$
BEGIN
    EXECUTE format('ALTER FUNCTION job_queue_producer_check(integer, timestamptz, integer, timestamptz, uuid)'
                   ' SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION job_queue_producer_check(integer, timestamptz, integer, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION job_queue_producer_check(integer, timestamptz, integer, timestamptz, uuid) TO pgqueue_producer;

-- Row-level security. The owner (migrations, this script) is not subject to it.
ALTER TABLE job_queue ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS job_queue_producer_select ON job_queue;
DROP POLICY IF EXISTS job_queue_producer_insert ON job_queue;
DROP POLICY IF EXISTS job_queue_worker_all ON job_queue;
-- A producer sees the jobs it enqueued, and no others.
CREATE POLICY job_queue_producer_select ON job_queue FOR SELECT TO pgqueue_producer
    USING (enqueued_by = current_user);
-- A producer's insert is a new pending job of its own, within the bounds of job_queue_producer_check(),
-- whether it comes through job_queue_enqueue(), a plain INSERT or COPY. (The payload limit,
-- job_queue_setting, applies to every insert by trigger.)
CREATE POLICY job_queue_producer_insert ON job_queue FOR INSERT TO pgqueue_producer
    WITH CHECK (enqueued_by = current_user
                AND status = 'pending' AND attempt = 0 AND retry_count = 0
                AND lease_owner IS NULL AND lease_token IS NULL AND lease_expires_at IS NULL
                AND cancel_requested_at IS NULL AND processed_at IS NULL AND completed_at IS NULL
                -- The bounds as plain expressions (cheap), and job_queue_producer_check() only when
                -- one of them fails (it raises the error naming the value) or for a user_id.
                AND ((priority BETWEEN -1000 AND 1000 AND max_retries BETWEEN 0 AND 100
                      AND run_at >= now() - interval '1 hour' AND run_at <= clock_timestamp() + interval '365000 days'
                      AND created_at >= now() AND created_at <= clock_timestamp()
                      AND user_id IS NULL)
                     OR job_queue_producer_check(priority, run_at, max_retries, created_at, user_id)));
CREATE POLICY job_queue_worker_all ON job_queue FOR ALL TO pgqueue_worker
    USING (true) WITH CHECK (true);

-- So that both roles keep working where row-level security is on for every pgqueue table and PUBLIC
-- may execute no pgqueue function, as after supabase-rls.sql (run that one after this script): the
-- worker may execute every pgqueue function of the schema (its completions run
-- job_queue_dependency_finished() through a trigger) and has a policy on every table it uses; both
-- read the migration history.
DO
$$
DECLARE
    fn pg_catalog.regprocedure;
BEGIN
    FOR fn IN
        SELECT CAST(p.oid AS pg_catalog.regprocedure)
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema())
           AND (p.proname LIKE 'job\_queue%' OR p.proname LIKE 'pgqueue\_%')
    LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO pgqueue_worker', fn);
    END LOOP;
    IF to_regclass('pgqueue_schema_history') IS NOT NULL THEN
        DROP POLICY IF EXISTS pgqueue_schema_history_read ON pgqueue_schema_history;
        CREATE POLICY pgqueue_schema_history_read ON pgqueue_schema_history FOR SELECT TO pgqueue_producer, pgqueue_worker
            USING (true);
    END IF;
END
$$;
-- The admin API (V6): its functions are granted by the loop above; its views, which read job_queue
-- with their owner's rights, to the worker, which may read every job anyway. Producers get neither.
DO
$$
BEGIN
    IF to_regclass('job_queue_stats') IS NOT NULL THEN
        REVOKE ALL ON TABLE job_queue_stats, job_queue_failure_groups FROM PUBLIC;
        GRANT SELECT ON TABLE job_queue_stats, job_queue_failure_groups TO pgqueue_worker;
    END IF;
END
$$;
DROP POLICY IF EXISTS job_queue_dependency_worker_all ON job_queue_dependency;
CREATE POLICY job_queue_dependency_worker_all ON job_queue_dependency FOR ALL TO pgqueue_worker
    USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS job_queue_policy_worker_all ON job_queue_policy;
CREATE POLICY job_queue_policy_worker_all ON job_queue_policy FOR ALL TO pgqueue_worker
    USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS job_queue_policy_start_worker_all ON job_queue_policy_start;
CREATE POLICY job_queue_policy_start_worker_all ON job_queue_policy_start FOR ALL TO pgqueue_worker
    USING (true) WITH CHECK (true);

-- Paused queues and the worker registry (V7): the worker reads which queues are paused and keeps its
-- own entry in the registry; the registry view is for reading. Pausing and resuming
-- (job_queue_pause/job_queue_resume, which run with the caller's rights) stay with the owner: grant
-- INSERT, UPDATE ON job_queue_queue to an operator role that should do it.
DO
$$
BEGIN
    IF to_regclass('job_queue_queue') IS NOT NULL THEN
        REVOKE ALL ON TABLE job_queue_queue, job_queue_worker, job_queue_workers FROM PUBLIC;
        GRANT SELECT ON TABLE job_queue_queue TO pgqueue_worker;
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE job_queue_worker TO pgqueue_worker;
        GRANT SELECT ON TABLE job_queue_workers TO pgqueue_worker;
        DROP POLICY IF EXISTS job_queue_queue_worker_read ON job_queue_queue;
        CREATE POLICY job_queue_queue_worker_read ON job_queue_queue FOR SELECT TO pgqueue_worker USING (true);
        DROP POLICY IF EXISTS job_queue_worker_worker_all ON job_queue_worker;
        CREATE POLICY job_queue_worker_worker_all ON job_queue_worker FOR ALL TO pgqueue_worker
            USING (true) WITH CHECK (true);
    END IF;
END
$$;
