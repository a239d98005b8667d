-- Enqueue one job. Parameters: now (null = database clock), id, job_type, queue, payload (JSON text),
-- priority, run_at (null = now + delay), delay in microseconds, max_retries, user_id.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at)
SELECT ?, ?, ?, CAST(? AS jsonb), ?,
       coalesce(CAST(? AS timestamptz), clock.now + ? * interval '1 microsecond'),
       ?, ?, clock.now
  FROM clock
