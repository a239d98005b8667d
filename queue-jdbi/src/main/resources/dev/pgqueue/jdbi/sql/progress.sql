-- Record running jobs' latest progress, fenced by lease token (still processing, token matches);
-- returns the ids written. Rows locked by someone else right now (an outcome being recorded) are
-- skipped, never waited for, so that this periodic write cannot deadlock with batch completions; an
-- outcome carries its job's last report itself (progress-with-outcome.sql). Touches no indexed
-- column, so the update can be HOT. Parameters: now (null = database clock), ids (uuid[]),
-- lease tokens (uuid[]), percents (int[]), messages (text[]).
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     p AS (SELECT * FROM unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS int[]), CAST(? AS text[]))
                      AS p(id, lease_token, percent, message)),
     held AS (
         SELECT j.id
           FROM {schema}.job_queue j JOIN p ON p.id = j.id
          WHERE j.lease_token = p.lease_token AND j.status = (SELECT 'processing')
          ORDER BY j.id
            FOR UPDATE OF j SKIP LOCKED)
UPDATE {schema}.job_queue j
   SET progress_percent = p.percent,
       progress_message = p.message,
       progress_at = clock.now
  FROM clock, p
 WHERE j.id = ANY (ARRAY(SELECT id FROM held)) AND p.id = j.id
RETURNING j.id
