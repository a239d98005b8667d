-- complete.sql for one job: complete it if the caller still holds its lease (token matches, still
-- processing), with its handler's result (null for none); a job a producer asked to cancel while it
-- ran ends cancelled instead, its result dropped. Parameters: now (null = database clock), id,
-- lease token, result (JSON text).
-- The row is found by primary key alone (f is one row of scalars, pulled up into j.id = $2): no array
-- to encode, no join to plan. The status test is a sub-select so that no plan can prefer
-- job_queue_lease_idx (WHERE status = 'processing'). JobStatements runs this with seq scans disabled
-- for its transaction (set_config, local): a generic plan made while the table was nearly empty
-- would otherwise be a seq scan, kept until the next ANALYZE (see FinishOneTest).
-- The status comes back as varchar(32), not text, so that pgjdbc can bound the reply's size and send
-- this statement and the set_config before it with one Sync: one round trip (see JobStatements.NO_SEQ_SCAN).
-- Attempt history (V6): this appends to job_queue.history (at most 20 entries) only for a job that ends
-- cancelled; a completed job's history is left as it is and its error_message cleared (the history
-- keeps its failures), so error_message never shows an old failure on a completed job.
WITH f AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now,
                  CAST(? AS uuid) AS id, CAST(? AS uuid) AS lease_token, CAST(? AS text) AS result)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN j.cancel_requested_at IS NULL THEN 'completed' ELSE 'cancelled' END,
       completed_at = f.now,
       result = CASE WHEN j.cancel_requested_at IS NULL THEN CAST(f.result AS jsonb) END,
       error_message = CASE WHEN j.cancel_requested_at IS NULL THEN NULL
                            ELSE 'cancelled by a producer while running; the handler''s result was dropped' END,
       history = CASE WHEN j.cancel_requested_at IS NULL THEN j.history
                 ELSE {schema}.job_queue_history_append(j.history, j.attempt, f.now, 'cancelled',
                                                        'cancelled by a producer while running; the handler''s result was dropped', j.lease_owner) END
  FROM f
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, CAST(j.status AS varchar(32)), j.retry_count
