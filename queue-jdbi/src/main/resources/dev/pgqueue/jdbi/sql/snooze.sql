-- Snooze jobs (fenced by lease token): pending again after the delay, not counted as a failure
-- (retry_count unchanged), or cancelled if a producer asked for that meanwhile.
-- Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]), delays in microseconds (bigint[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
-- A job that ends cancelled here gets an entry in job_queue.history (V6).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
       run_at = clock.now + CAST(f.delay_micros AS double precision) * interval '1 microsecond',
       completed_at = CASE WHEN j.cancel_requested_at IS NOT NULL THEN clock.now END,
       history = CASE WHEN j.cancel_requested_at IS NULL THEN j.history
                 ELSE {schema}.job_queue_history_append(j.history, j.attempt, clock.now, 'cancelled',
                                                        'cancelled by a producer while running', j.lease_owner) END
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS bigint[])) AS f(id, lease_token, delay_micros)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, j.status, j.retry_count
