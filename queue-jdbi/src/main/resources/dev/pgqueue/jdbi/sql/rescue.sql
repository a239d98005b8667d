-- Take back up to `limit` jobs whose worker stopped: their lease has expired (their worker crashed,
-- paused or lost its connection), or their worker counts as dead in the registry (V7: it has not
-- renewed its presence for 3 of its presence intervals, so its jobs come back long before their
-- leases expire). Each goes pending again at once, counted as a failed attempt, or failed when no
-- retries are left, or cancelled when a producer asked for that meanwhile. A row is taken only if it
-- still qualifies when locked (FOR UPDATE re-checks the condition on the latest row version), so a
-- completion that landed first wins; rows others hold locked are skipped, never waited for. The
-- lease token changes at the next claim, so a "dead" worker that was only stalled is fenced out.
-- Uses job_queue_lease_idx (every processing job, oldest lease first); the registry is one row per
-- worker. Parameters: now (null = database clock), limit.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     dead AS MATERIALIZED (
         SELECT w.id
           FROM {schema}.job_queue_worker w, clock
          WHERE w.last_heartbeat < clock.now - 3 * w.presence_interval),
     expired AS MATERIALIZED (
         SELECT id
           FROM {schema}.job_queue
          WHERE status = 'processing'
            AND (lease_expires_at < (SELECT now FROM clock) OR lease_owner IN (SELECT id FROM dead))
          ORDER BY lease_expires_at
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED)
UPDATE {schema}.job_queue j
   SET retry_count = j.retry_count + 1,
       status = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                     WHEN j.retry_count >= j.max_retries THEN 'failed'
                     ELSE 'pending' END,
       run_at = CASE WHEN j.cancel_requested_at IS NULL AND j.retry_count < j.max_retries THEN clock.now ELSE j.run_at END,
       completed_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.retry_count >= j.max_retries THEN clock.now END,
       error_message = CASE WHEN j.lease_expires_at < clock.now
                            THEN pg_catalog.format('lease expired at %s: worker %s stopped renewing it during attempt %s (crashed, paused or cut off)',
                                                   j.lease_expires_at, j.lease_owner, j.attempt)
                            ELSE pg_catalog.format('worker %s stopped renewing its registry entry during attempt %s (crashed, paused or cut off); rescued before its lease expired at %s',
                                                   j.lease_owner, j.attempt, j.lease_expires_at) END
  FROM clock, expired
 WHERE j.id = expired.id
RETURNING j.id, j.job_type, j.queue, j.status, j.lease_owner, j.attempt
