-- snooze.sql for one job. Parameters: now (null = database clock), id, lease token, delay in microseconds.
-- The row is found by primary key alone (f is one row of scalars, pulled up into j.id = $2): no array
-- to encode, no join to plan. The status test is a sub-select so that no plan can prefer
-- job_queue_lease_idx (WHERE status = 'processing'). JobStatements runs this with seq scans disabled
-- for its transaction (set_config, local): a generic plan made while the table was nearly empty
-- would otherwise be a seq scan, kept until the next ANALYZE (see FinishOneTest).
-- The status comes back as varchar(32), not text, so that pgjdbc can bound the reply's size and send
-- this statement and the set_config before it with one Sync: one round trip (see JobStatements.NO_SEQ_SCAN).
-- A job that ends cancelled here gets an entry in job_queue.history (V6).
WITH f AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now,
                  CAST(? AS uuid) AS id, CAST(? AS uuid) AS lease_token, CAST(? AS bigint) AS delay_micros)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
       run_at = f.now + CAST(f.delay_micros AS double precision) * interval '1 microsecond',
       completed_at = CASE WHEN j.cancel_requested_at IS NOT NULL THEN f.now END,
       history = CASE WHEN j.cancel_requested_at IS NULL THEN j.history
                 ELSE {schema}.job_queue_history_append(j.history, j.attempt, f.now, 'cancelled',
                                                        'cancelled by a producer while running', j.lease_owner) END
  FROM f
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id, CAST(j.status AS varchar(32)), j.retry_count
