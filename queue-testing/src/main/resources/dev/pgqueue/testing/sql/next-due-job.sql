-- The id of the next due pending job of the given types, on any queue, in the workers' claim order
-- (priority, run_at, id). Parameters: job types (text[]), now (null = database clock).
SELECT id
  FROM {schema}.job_queue
 WHERE status = 'pending'
   AND job_type = ANY (CAST(? AS text[]))
   AND run_at <= coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp())
 ORDER BY priority, run_at, id
 LIMIT 1
