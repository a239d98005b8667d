-- Complete jobs whose lease the caller still holds (token matches, still processing), with their
-- handlers' results (null for none); others are left alone. A job a producer asked to cancel while it
-- ran ends cancelled instead, its result dropped: once cancel() has said yes, the job never completes.
-- Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]), results (JSON text[]).
-- The status test is written j.status = (SELECT 'processing') on purpose: against the literal, the
-- planner may use the partial index job_queue_lease_idx (WHERE status = 'processing'), and a generic
-- plan (a prepared statement after five runs), trusting statistics taken when few jobs ran, joins
-- that index to the batch in a nested loop: O(batch x running jobs), 43 ms instead of 4 ms for 500.
-- Hidden behind a sub-select, the rows are found by primary key, one probe per job.
-- Attempt history (V6): this appends to job_queue.history (at most 20 entries) only for a job that ends
-- cancelled; a completed job's history is left as it is and its error_message cleared (the history
-- keeps its failures), so error_message never shows an old failure on a completed job.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN j.cancel_requested_at IS NULL THEN 'completed' ELSE 'cancelled' END,
       completed_at = clock.now,
       result = CASE WHEN j.cancel_requested_at IS NULL THEN CAST(f.result AS jsonb) END,
       error_message = CASE WHEN j.cancel_requested_at IS NULL THEN NULL
                            ELSE 'cancelled by a producer while running; the handler''s result was dropped' END,
       history = CASE WHEN j.cancel_requested_at IS NULL THEN j.history
                 ELSE {schema}.job_queue_history_append(j.history, j.attempt, clock.now, 'cancelled',
                                                        'cancelled by a producer while running; the handler''s result was dropped', j.lease_owner) END
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS text[])) AS f(id, lease_token, result)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, j.status, j.retry_count
