-- Claim one pending job by id, whether or not it is due and whatever the queue's policies, with a
-- lease as claim.sql gives (processing, attempt + 1, a fresh lease token; a cancellation request left
-- from before is cleared); no row if it is not pending. For test tools (the queue tester). Returns the
-- columns of claim.sql up to lease_expires_at, then processed_at and trace_context. Parameters: now (null = database clock), lease owner, lease token, lease
-- duration in microseconds, id.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET status = 'processing',
       attempt = j.attempt + 1,
       processed_at = clock.now,
       lease_owner = CAST(? AS text),
       lease_token = CAST(? AS uuid),
       lease_expires_at = clock.now + CAST(? AS double precision) * interval '1 microsecond',
       cancel_requested_at = NULL
  FROM clock
 WHERE j.id = CAST(? AS uuid) AND j.status = 'pending'
RETURNING j.id, j.job_type, j.queue, CAST(j.payload AS text), j.attempt, j.retry_count, j.max_retries,
          j.priority, j.run_at, j.created_at, j.user_id, j.lease_token, j.lease_expires_at,
          j.processed_at, CAST(j.trace_context AS text)
