-- Enqueue one job. Parameters: :now (null = database clock), then the job's columns by name;
-- :payload is JSON text, :run_at null means now + :delay_micros, :trace_context is a JSON object's text
-- or null (V8).
WITH clock AS (SELECT coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at, trace_context)
SELECT CAST(:id AS uuid), CAST(:job_type AS text), CAST(:queue AS text), CAST(:payload AS jsonb),
       CAST(:priority AS integer),
       coalesce(CAST(:run_at AS timestamptz), clock.now + CAST(:delay_micros AS double precision) * interval '1 microsecond'),
       CAST(:max_retries AS integer), CAST(:user_id AS uuid), clock.now,
       CAST(:trace_context AS jsonb)
  FROM clock
