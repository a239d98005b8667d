-- Move a bulk enqueue's staged jobs (insert-copy.sql) into job_queue, in one statement computing
-- every column as insert-many.sql does: the same clock (pg_catalog.statement_timestamp() of this statement when
-- now is null), the same casts, the same defaults. So the insert trigger sees one statement and
-- NOTIFYs once per queue, and any error (a check, the payload's JSON, a duplicate id) is the one
-- insert-many.sql would raise. Parameter: now (null = database clock).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at, trace_context)
SELECT j.id, j.job_type, j.queue, CAST(j.payload AS jsonb), j.priority,
       coalesce(CAST(j.run_at AS timestamptz), clock.now + CAST(j.delay_micros AS double precision) * interval '1 microsecond'),
       j.max_retries, j.user_id, clock.now, CAST(j.trace_context AS jsonb)
  FROM clock, pg_temp.pgqueue_enqueue_staging AS j
