-- Hand unfinished jobs back (graceful shutdown), fenced by lease token: pending again at once, and
-- the attempt is not counted (neither a run nor a failure); cancelled instead if a producer asked
-- for that meanwhile. Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
-- A job that ends cancelled here gets an entry in job_queue.history (V6).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
       completed_at = CASE WHEN j.cancel_requested_at IS NOT NULL THEN clock.now END,
       history = CASE WHEN j.cancel_requested_at IS NULL THEN j.history
                 ELSE {schema}.job_queue_history_append(j.history, j.attempt, clock.now, 'cancelled',
                                                        'cancelled by a producer while running', j.lease_owner) END,
       attempt = j.attempt - 1
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS f(id, lease_token)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, j.status, j.retry_count
