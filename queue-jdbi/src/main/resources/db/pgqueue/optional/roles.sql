-- pgqueue, optional: least-privilege roles for a job_queue schema. Not a versioned migration: role
-- names belong to the deployment. Run it after the migrations, in the queue's schema
-- (SET search_path = myschema; first), as the role that owns job_queue (the one that ran the
-- migrations; it needs no superuser). Running it again changes nothing. To use other role names,
-- replace pgqueue_producer and pgqueue_worker throughout.
--
--   pgqueue_producer  enqueues (job_queue_enqueue(...), or INSERT of the seed's columns) and reads
--                     the jobs it enqueued itself, nothing else: it cannot read other producers'
--                     payloads, change a status, delete, or alter or drop anything.
--   pgqueue_worker    runs the worker: claims, completes, retries, rescues, prunes (SELECT, INSERT,
--                     UPDATE, DELETE on job_queue), LISTENs; no DDL.
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
                       job_queue_check_payload(jsonb), job_queue_notify_insert()
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
              dedupe_key, unique_states, unique_until)
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

-- Row-level security. The owner (migrations, this script) is not subject to it.
ALTER TABLE job_queue ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS job_queue_producer_select ON job_queue;
DROP POLICY IF EXISTS job_queue_producer_insert ON job_queue;
DROP POLICY IF EXISTS job_queue_worker_all ON job_queue;
-- A producer sees the jobs it enqueued, and no others.
CREATE POLICY job_queue_producer_select ON job_queue FOR SELECT TO pgqueue_producer
    USING (enqueued_by = current_user);
-- A producer's insert is a new pending job of its own, whether it comes through job_queue_enqueue()
-- or a plain INSERT. (The payload limit, job_queue_setting, applies to every insert by trigger.)
CREATE POLICY job_queue_producer_insert ON job_queue FOR INSERT TO pgqueue_producer
    WITH CHECK (enqueued_by = current_user
                AND status = 'pending' AND attempt = 0 AND retry_count = 0 AND lease_token IS NULL);
CREATE POLICY job_queue_worker_all ON job_queue FOR ALL TO pgqueue_worker
    USING (true) WITH CHECK (true);
