-- JdbiJobAdmin.queueStats on a small table (the planner expects at most the exact-count limit of rows):
-- completed, failed and cancelled jobs per queue, counted exactly. Reads every finished row.
-- No parameters.
SELECT j.queue,
       pg_catalog.count(*) FILTER (WHERE j.status = 'completed'),
       pg_catalog.count(*) FILTER (WHERE j.status = 'failed'),
       pg_catalog.count(*) FILTER (WHERE j.status = 'cancelled')
  FROM {schema}.job_queue j
 WHERE j.status IN ('completed', 'failed', 'cancelled')
 GROUP BY j.queue
