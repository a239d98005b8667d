-- Microseconds until the earliest not-yet-due pending job of one queue and the given types becomes
-- due (null if none). Parameters: now (null = database clock), queue, job types (text[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
SELECT CAST(extract(epoch FROM pg_catalog.min(j.run_at) - pg_catalog.min(clock.now)) * CAST(1000000 AS numeric) AS bigint)
  FROM clock, {schema}.job_queue j
 WHERE j.status = 'pending'
   AND j.queue = CAST(? AS text)
   AND j.job_type = ANY (CAST(? AS text[]))
   AND j.run_at > clock.now
