-- Delete up to `limit` final jobs of the given statuses that finished before now - retention, oldest
-- first, skipping locked rows so that it never waits on workers. Never touches unfinished jobs.
-- Uses job_queue_finished_idx. Parameters: now (null = database clock), statuses (text[]),
-- retention in microseconds, limit.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
DELETE FROM {schema}.job_queue j
 USING (SELECT id
          FROM {schema}.job_queue
         WHERE status = ANY (CAST(? AS text[]))
           AND status IN ('completed', 'failed', 'cancelled')
           AND completed_at < (SELECT now FROM clock) - CAST(? AS double precision) * interval '1 microsecond'
         ORDER BY completed_at
         LIMIT CAST(? AS integer)
           FOR UPDATE SKIP LOCKED) old
 WHERE j.id = old.id
