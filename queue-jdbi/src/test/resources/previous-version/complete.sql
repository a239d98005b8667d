-- Complete jobs whose lease the caller still holds (token matches, still processing); others are
-- left alone. Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), now()) AS now)
UPDATE {schema}.job_queue j
   SET status = 'completed',
       completed_at = clock.now
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS f(id, lease_token)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = 'processing'
RETURNING j.id, j.status, j.retry_count
