-- Complete jobs whose lease the caller still holds (token matches, still processing), with their
-- handlers' results (null for none); others are left alone. Parameters: now (null = database clock),
-- ids (uuid[]), lease tokens (uuid[]), results (JSON text[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = 'completed',
       completed_at = clock.now,
       result = CAST(f.result AS jsonb)
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS text[])) AS f(id, lease_token, result)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = 'processing'
RETURNING j.id, j.status, j.retry_count
