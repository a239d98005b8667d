-- Fail jobs permanently (fenced by lease token), whatever retries remain. Parameters: now
-- (null = database clock), ids (uuid[]), lease tokens (uuid[]), error messages (text[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
-- Appends the attempt to job_queue.history (V6, at most 20 entries; see docs/admin.md).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = 'failed',
       retry_count = j.retry_count + 1,
       error_message = f.message,
       history = {schema}.job_queue_history_append(j.history, j.attempt, clock.now, 'failed',
                                                   pg_catalog.left(f.message, 2000), j.lease_owner),
       completed_at = clock.now
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS text[])) AS f(id, lease_token, message)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, j.status, j.retry_count
