-- Take back up to `limit` jobs whose lease has expired (their worker crashed, paused or lost its
-- connection): pending again at once, counted as a failed attempt, or failed when no retries are
-- left, or cancelled when a producer asked for that meanwhile. A row is taken only if its lease is
-- still expired when locked (FOR UPDATE re-checks the condition on the latest row version), so a
-- completion or heartbeat that landed first wins; rows others hold locked are skipped, never waited
-- for. Uses job_queue_lease_idx. Parameters: now (null = database clock), limit.
-- Appends the attempt to job_queue.history (V6, at most 20 entries; see docs/admin.md).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     expired AS MATERIALIZED (
         SELECT id
           FROM {schema}.job_queue
          WHERE status = 'processing' AND lease_expires_at < (SELECT now FROM clock)
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
       error_message = pg_catalog.format('lease expired at %s: worker %s stopped renewing it during attempt %s (crashed, paused or cut off)',
                              j.lease_expires_at, j.lease_owner, j.attempt),
       history = CASE WHEN pg_catalog.jsonb_array_length(coalesce(j.history, CAST('[]' AS jsonb))) >= 20
                      THEN j.history - 0 ELSE coalesce(j.history, CAST('[]' AS jsonb)) END
                 || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                        'attempt', j.attempt, 'at', clock.now, 'kind', CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                                     WHEN j.retry_count >= j.max_retries THEN 'failed' ELSE 'retried' END,
                        'message', pg_catalog.format('lease expired at %s: worker %s stopped renewing it during attempt %s (crashed, paused or cut off)',
                              j.lease_expires_at, j.lease_owner, j.attempt), 'worker', j.lease_owner))
  FROM clock, expired
 WHERE j.id = expired.id
RETURNING j.id, j.job_type, j.queue, j.status, j.lease_owner, j.attempt
