-- Snooze jobs (fenced by lease token): pending again after the delay; not a failure, so
-- retry_count is unchanged. Parameters: now (null = database clock), ids (uuid[]),
-- lease tokens (uuid[]), delays in microseconds (bigint[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), now()) AS now)
UPDATE {schema}.job_queue j
   SET status = 'pending',
       run_at = clock.now + f.delay_micros * interval '1 microsecond'
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[]), CAST(? AS bigint[])) AS f(id, lease_token, delay_micros)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = 'processing'
RETURNING j.id, j.status, j.retry_count
