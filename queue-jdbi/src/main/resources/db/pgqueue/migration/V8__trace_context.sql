-- pgqueue V8: the trace context a producer records with a job (W3C traceparent and tracestate, say),
-- handed to the worker that runs it, so that a trace can follow a job from the request that enqueued
-- it to each attempt. Part of pgqueue's public SQL contract (see docs/sql-contract.md, docs/tracing.md).
--
-- Plain SQL, like V1-V5: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Safe during a rolling upgrade: a nullable column without a default is added without rewriting or
-- scanning the table; older pgqueue versions, the seed's INSERT INTO job_queue (job_type, payload,
-- user_id) and job_queue_enqueue(...) do not name it and leave it NULL, which costs a row nothing
-- (one bit of its null bitmap). Only pgqueue's Java enqueue writes it, and only when the queue has an
-- EnqueueInterceptor (the OpenTelemetry module's) that records a context.

-- ---- the column ---------------------------------------------------------------------------------------

-- A JSON object of string keys and values, e.g. {"traceparent": "00-<trace id>-<span id>-01"}; NULL
-- when the producer recorded none. Written by insert-one.sql, insert-many.sql, insert-unique.sql,
-- insert-full.sql and insert-copied.sql; read by claim.sql, claim-fair.sql and claim-by-id.sql.
ALTER TABLE job_queue
    ADD COLUMN IF NOT EXISTS trace_context jsonb;

COMMENT ON COLUMN job_queue.trace_context IS
    'the context its producer recorded (W3C traceparent, tracestate) as a JSON object of strings, or NULL';

-- Producer-supplied data on every row: bounded here as well as at the Java API edge (which allows
-- 1 KB of keys and values), so that SQL writers cannot store more either. 4 KB of JSON text leaves
-- room for the quoting and punctuation of a context the API accepts. NOT VALID: rows that existed
-- before this migration have no context, so there is nothing to check, and validating would scan the
-- table; every row inserted or updated from now on is checked (a NULL passes at once).
ALTER TABLE job_queue
    DROP CONSTRAINT IF EXISTS job_queue_trace_context_check;
ALTER TABLE job_queue
    ADD CONSTRAINT job_queue_trace_context_check
        CHECK (trace_context IS NULL
               OR (pg_catalog.jsonb_typeof(trace_context) OPERATOR(pg_catalog.=) CAST('object' AS text)
                   AND pg_catalog.octet_length(CAST(trace_context AS text)) OPERATOR(pg_catalog.<=) 4096)) NOT VALID;

-- ---- least privilege (db/pgqueue/optional/roles.sql) -----------------------------------------------

-- roles.sql grants pgqueue_producer INSERT on the enqueue columns only. Where it was run before this
-- migration, the producer gets the new column too, so that pgqueue's Java enqueue (which names it)
-- keeps working for producers without running roles.sql again. Nothing happens where the role does
-- not exist or was not given the enqueue columns in this schema.
DO
$$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CAST('pgqueue_producer' AS name))
       AND pg_catalog.has_column_privilege(CAST('pgqueue_producer' AS name),
                                           CAST(pg_catalog.format('%I.job_queue', pg_catalog.current_schema()) AS text),
                                           CAST('job_type' AS text), CAST('INSERT' AS text)) THEN
        EXECUTE pg_catalog.format('GRANT INSERT (trace_context) ON TABLE %I.job_queue TO pgqueue_producer',
                                  pg_catalog.current_schema());
    END IF;
END
$$;
