-- Record the last progress report of jobs whose outcome is recorded in the same transaction (rows in
-- id order), fenced by lease token. Parameters: now (null = database clock), ids (uuid[]),
-- lease tokens (uuid[]), percents (int[]), messages (text[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET progress_percent = p.percent,
       progress_message = p.message,
       progress_at = clock.now
  FROM clock,
       unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS int[]), CAST(? AS text[]))
           AS p(id, lease_token, percent, message)
 WHERE j.id = p.id AND j.lease_token = p.lease_token AND j.status = (SELECT 'processing')
RETURNING j.id
