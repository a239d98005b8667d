-- Enqueue one job. Parameters: now (null = database clock), id, job_type, queue, payload (JSON text),
-- priority, run_at (null = now + delay), delay in microseconds, max_retries, user_id.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at)
SELECT CAST(? AS uuid), CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS integer),
       coalesce(CAST(? AS timestamptz), clock.now + CAST(? AS double precision) * interval '1 microsecond'),
       CAST(? AS integer), CAST(? AS uuid), clock.now
  FROM clock
