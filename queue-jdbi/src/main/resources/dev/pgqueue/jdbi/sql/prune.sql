-- Delete up to `limit` final jobs of the given statuses that finished before now - retention, oldest
-- first, skipping locked rows so that it never waits on workers. Never touches unfinished jobs.
-- Uses job_queue_finished_idx, from `since` on: the caller passes where its previous prune of the
-- same statuses stopped, so that the walk skips the entries of the rows that prune deleted, which stay
-- in the index while something holds back the xmin horizon (null = from the oldest finished job).
-- Parameters: now (null = database clock), statuses (text[]), since (null = from the oldest),
-- retention in microseconds, limit. Returns how many it deleted and the latest completed_at of those.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     old AS (
         SELECT id, completed_at
           FROM {schema}.job_queue
          WHERE status = ANY (CAST(? AS text[]))
            AND status IN ('completed', 'failed', 'cancelled')
            AND completed_at >= coalesce(CAST(? AS timestamptz), CAST('-infinity' AS timestamptz))
            AND completed_at < (SELECT now FROM clock) - CAST(? AS double precision) * interval '1 microsecond'
          ORDER BY completed_at
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED),
     deleted AS (
         DELETE FROM {schema}.job_queue j
          USING old
          WHERE j.id = old.id
         RETURNING old.completed_at)
SELECT pg_catalog.count(*), pg_catalog.max(completed_at) FROM deleted
