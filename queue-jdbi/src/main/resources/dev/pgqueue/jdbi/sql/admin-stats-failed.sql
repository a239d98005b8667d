-- JdbiJobAdmin.queueStats on a large table with at most the exact-count limit of failed jobs: failed
-- jobs per queue, counted exactly through job_queue_failed_idx (one row read per failed job).
-- No parameters.
SELECT j.queue, pg_catalog.count(*)
  FROM {schema}.job_queue j
 WHERE j.status = 'failed'
 GROUP BY j.queue
