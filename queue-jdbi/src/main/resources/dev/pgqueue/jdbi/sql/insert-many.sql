-- Enqueue many jobs in one statement. Parameters: now (null = database clock), then one array per
-- column, element i of each describing job i: id, job_type, queue, payload (JSON text), priority,
-- run_at (null = now + delay), delay in microseconds, max_retries, user_id.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at)
SELECT j.id, j.job_type, j.queue, CAST(j.payload AS jsonb), j.priority,
       coalesce(j.run_at, clock.now + CAST(j.delay_micros AS double precision) * interval '1 microsecond'),
       j.max_retries, j.user_id, clock.now
  FROM clock,
       unnest(CAST(? AS uuid[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS int[]),
              CAST(? AS timestamptz[]), CAST(? AS bigint[]), CAST(? AS int[]), CAST(? AS uuid[]))
           AS j(id, job_type, queue, payload, priority, run_at, delay_micros, max_retries, user_id)
