-- Take back up to `limit` jobs whose lease has expired (their worker crashed, paused or lost its
-- connection): pending again at once, counted as a failed attempt, or failed when no retries are
-- left. A row is taken only if its lease is still expired when locked, so a completion or heartbeat
-- that landed first wins. Uses job_queue_lease_idx. Parameters: now (null = database clock), limit.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), now()) AS now)
UPDATE {schema}.job_queue j
   SET retry_count = j.retry_count + 1,
       status = CASE WHEN j.retry_count >= j.max_retries THEN 'failed' ELSE 'pending' END,
       run_at = CASE WHEN j.retry_count >= j.max_retries THEN j.run_at ELSE clock.now END,
       completed_at = CASE WHEN j.retry_count >= j.max_retries THEN clock.now END,
       error_message = format('lease expired at %s: worker %s stopped renewing it during attempt %s (crashed, paused or cut off)',
                              j.lease_expires_at, j.lease_owner, j.attempt)
  FROM clock,
       (SELECT id
          FROM {schema}.job_queue
         WHERE status = 'processing' AND lease_expires_at < (SELECT now FROM clock)
         ORDER BY lease_expires_at
         LIMIT ?
           FOR UPDATE SKIP LOCKED) expired
 WHERE j.id = expired.id
RETURNING j.id, j.job_type, j.queue, j.status, j.lease_owner, j.attempt
