-- Hand unfinished jobs back (graceful shutdown), fenced by lease token: pending again at once, and
-- the attempt is not counted (neither a run nor a failure). Parameters: ids (uuid[]), lease tokens (uuid[]).
UPDATE {schema}.job_queue j
   SET status = 'pending',
       attempt = j.attempt - 1
  FROM unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS f(id, lease_token)
 WHERE j.id = f.id AND j.lease_token = f.lease_token AND j.status = 'processing'
RETURNING j.id, j.status, j.retry_count
