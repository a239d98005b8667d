-- A producer cancels a job: a pending or waiting one becomes cancelled (its waiting dependents then
-- follow their on_dependency_failure, by the job_queue_resolve_dependents trigger); on a processing
-- one the request is recorded and its worker is told through the schema's channel ('cancel:<id>').
-- Returns the job's status afterwards; no row if the job is unknown or already final.
-- Parameters: now (null = database clock), id.
-- A job cancelled at once gets an entry in job_queue.history (V6).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     cancelled AS (
         UPDATE {schema}.job_queue j
            SET status = CASE WHEN j.status IN ('pending', 'waiting') THEN 'cancelled' ELSE j.status END,
                completed_at = CASE WHEN j.status IN ('pending', 'waiting') THEN clock.now ELSE j.completed_at END,
                error_message = CASE WHEN j.status IN ('pending', 'waiting') THEN 'cancelled by a producer' ELSE j.error_message END,
                history = CASE WHEN j.status NOT IN ('pending', 'waiting') THEN j.history
                          ELSE {schema}.job_queue_history_append(j.history, j.attempt, clock.now, 'cancelled',
                                                                 'cancelled by a producer', j.lease_owner) END,
                cancel_requested_at = CASE WHEN j.status = 'processing' THEN clock.now ELSE j.cancel_requested_at END
           FROM clock
          WHERE j.id = CAST(? AS uuid) AND j.status IN ('pending', 'processing', 'waiting')
         RETURNING j.id, j.status)
SELECT c.status, CASE WHEN c.status = 'processing'
                      THEN pg_catalog.pg_notify({schema}.job_queue_channel(), 'cancel:' || CAST(c.id AS text)) END
  FROM cancelled c
