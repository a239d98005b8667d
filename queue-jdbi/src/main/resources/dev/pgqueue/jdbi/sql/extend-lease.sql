-- Extend the leases the caller still holds. Returns one row per lease it could check: 'held' (now
-- extended; with its new expiry and whether a producer asked to cancel the job) or 'lost' (the job
-- is no longer processing under that token). A row locked by someone else right now (its outcome is
-- being recorded, or a rescuer holds it) is skipped, never waited for, so that the heartbeat cannot
-- deadlock with batch completions; it is checked again at the next beat.
-- Parameters: now (null = database clock), ids (uuid[]), lease tokens (uuid[]), lease duration in microseconds.
-- j.status = (SELECT 'processing'): rows by primary key, never a nested loop over job_queue_lease_idx (see complete.sql).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     lease AS (SELECT * FROM unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS l(id, lease_token)),
     held AS (
         SELECT j.id
           FROM {schema}.job_queue j JOIN lease l ON l.id = j.id
          WHERE j.lease_token = l.lease_token AND j.status = (SELECT 'processing')
          ORDER BY j.id
            FOR UPDATE OF j SKIP LOCKED),
     extended AS (
         UPDATE {schema}.job_queue j
            SET lease_expires_at = clock.now + CAST(? AS double precision) * interval '1 microsecond'
           FROM clock
          WHERE j.id = ANY (ARRAY(SELECT id FROM held))
         RETURNING j.id, j.lease_expires_at, j.cancel_requested_at IS NOT NULL AS cancel_requested)
SELECT id, 'held' AS state, lease_expires_at, cancel_requested FROM extended
UNION ALL
SELECT l.id, 'lost', NULL, false
  FROM lease l LEFT JOIN {schema}.job_queue j ON j.id = l.id
 WHERE j.id IS NULL OR j.lease_token IS DISTINCT FROM l.lease_token OR j.status <> 'processing'
