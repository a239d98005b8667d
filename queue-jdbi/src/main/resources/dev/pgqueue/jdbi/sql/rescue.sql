-- Take back up to `limit` jobs whose worker stopped: their lease has expired (their worker crashed,
-- paused or lost its connection), or their worker counts as dead in the registry (V7: it has not
-- renewed its presence for 3 of its presence intervals, so its jobs come back long before their
-- leases expire). Each goes pending again at once, counted as a failed attempt, or failed when no
-- retries are left, or cancelled when a producer asked for that meanwhile. A row is taken only if it
-- still qualifies when locked (FOR UPDATE re-checks the condition on the latest row version), so a
-- completion that landed first wins; rows others hold locked are skipped, never waited for. The
-- lease token changes at the next claim, so a "dead" worker that was only stalled is fenced out.
-- Uses job_queue_lease_idx: the expired leases, oldest first, as before V7; the jobs of dead workers
-- only while there is one. The registry is one row per worker. (Rows locked beyond the limit are
-- released at commit.) Parameters: now (null = database clock), limit.
-- Appends the attempt to job_queue.history (V6, at most 20 entries; see docs/admin.md).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now,
                      CAST(? AS integer) AS lim),
     dead AS MATERIALIZED (
         SELECT w.id
           FROM {schema}.job_queue_worker w, clock
          WHERE w.last_heartbeat < clock.now - 3 * w.presence_interval),
     expired AS MATERIALIZED (
         SELECT id, lease_expires_at
           FROM {schema}.job_queue
          WHERE status = 'processing' AND lease_expires_at < (SELECT now FROM clock)
          ORDER BY lease_expires_at
          LIMIT (SELECT lim FROM clock)
            FOR UPDATE SKIP LOCKED),
     -- Only when a registered worker is dead (a one-time filter: no scan otherwise); then its jobs by
     -- job_queue_lease_idx (the processing jobs).
     orphaned AS MATERIALIZED (
         SELECT id, lease_expires_at
           FROM {schema}.job_queue
          WHERE EXISTS (SELECT 1 FROM dead)
            AND status = 'processing' AND lease_expires_at >= (SELECT now FROM clock)
            AND lease_owner IN (SELECT id FROM dead)
          ORDER BY lease_expires_at
          LIMIT (SELECT lim FROM clock)
            FOR UPDATE SKIP LOCKED),
     taken AS (
         SELECT t.id FROM (SELECT * FROM expired UNION ALL SELECT * FROM orphaned) t
          ORDER BY t.lease_expires_at
          LIMIT (SELECT lim FROM clock))
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
                                                   j.lease_owner, j.attempt, j.lease_expires_at) END,
       history = {schema}.job_queue_history_append(j.history, j.attempt, clock.now,
                                                   CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                                                        WHEN j.retry_count >= j.max_retries THEN 'failed' ELSE 'retried' END,
                                                   CASE WHEN j.lease_expires_at < clock.now
                                                        THEN pg_catalog.format('lease expired at %s: worker %s stopped renewing it during attempt %s (crashed, paused or cut off)',
                                                                               j.lease_expires_at, j.lease_owner, j.attempt)
                                                        ELSE pg_catalog.format('worker %s stopped renewing its registry entry during attempt %s (crashed, paused or cut off); rescued before its lease expired at %s',
                                                                               j.lease_owner, j.attempt, j.lease_expires_at) END,
                                                   j.lease_owner)
  FROM clock, taken
 WHERE j.id = taken.id
RETURNING j.id, j.job_type, j.queue, j.status, j.lease_owner, j.attempt
