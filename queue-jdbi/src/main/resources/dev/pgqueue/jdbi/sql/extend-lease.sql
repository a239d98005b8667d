-- Extend leases the caller still holds; reports each held lease's new expiry and whether a producer
-- asked to cancel the job. Parameters: now (null = database clock), lease duration in microseconds,
-- ids (uuid[]), lease tokens (uuid[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), now()) AS now)
UPDATE {schema}.job_queue j
   SET lease_expires_at = clock.now + ? * interval '1 microsecond'
  FROM clock, unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS l(id, lease_token)
 WHERE j.id = l.id AND j.lease_token = l.lease_token AND j.status = 'processing'
RETURNING j.id, j.lease_expires_at, j.cancel_requested_at IS NOT NULL
