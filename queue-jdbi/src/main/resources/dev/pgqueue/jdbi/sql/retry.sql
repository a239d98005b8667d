-- Record failed attempts (fenced by lease token): back to pending after the given delay, or failed
-- once retry_count would exceed max_retries, or cancelled if a producer asked for that meanwhile.
-- Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]), error messages
-- (text[]), delays in microseconds (bigint[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
-- Appends the attempt to job_queue.history (V6, at most 20 entries; see docs/admin.md).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET retry_count = j.retry_count + 1,
       error_message = f.message,
       history = {schema}.job_queue_history_append(j.history, j.attempt, clock.now,
                                                   CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                                                        WHEN j.retry_count >= j.max_retries THEN 'failed' ELSE 'retried' END,
                                                   pg_catalog.left(f.message, 2000), j.lease_owner),
       status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                     WHEN j.retry_count >= j.max_retries THEN 'failed'
                     ELSE 'pending' END,
       run_at = CASE WHEN j.cancel_requested_at IS NULL AND j.retry_count < j.max_retries
                     THEN clock.now + CAST(f.delay_micros AS double precision) * interval '1 microsecond' ELSE j.run_at END,
       completed_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.retry_count >= j.max_retries THEN clock.now END
  FROM clock,
       unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS text[]), CAST(? AS bigint[]))
           AS f(id, lease_token, message, delay_micros)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, j.status, j.retry_count
