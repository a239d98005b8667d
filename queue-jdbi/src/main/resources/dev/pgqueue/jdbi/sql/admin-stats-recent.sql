-- JdbiJobAdmin.queueStats, exact part 2: jobs completed and failed for good per queue in the last 1, 5
-- and 15 minutes, by completed_at. Reads the range of job_queue_finished_idx of the last 15 minutes,
-- so it costs one row per job finished in that time. No parameters.
SELECT j.queue,
       pg_catalog.count(*) FILTER (WHERE j.status = 'completed' AND j.completed_at >= pg_catalog.now() - CAST('1 minute' AS interval)),
       pg_catalog.count(*) FILTER (WHERE j.status = 'completed' AND j.completed_at >= pg_catalog.now() - CAST('5 minutes' AS interval)),
       pg_catalog.count(*) FILTER (WHERE j.status = 'completed'),
       pg_catalog.count(*) FILTER (WHERE j.status = 'failed' AND j.completed_at >= pg_catalog.now() - CAST('1 minute' AS interval)),
       pg_catalog.count(*) FILTER (WHERE j.status = 'failed' AND j.completed_at >= pg_catalog.now() - CAST('5 minutes' AS interval)),
       pg_catalog.count(*) FILTER (WHERE j.status = 'failed')
  FROM {schema}.job_queue j
 WHERE j.status IN ('completed', 'failed', 'cancelled')
   AND j.completed_at >= pg_catalog.now() - CAST('15 minutes' AS interval)
 GROUP BY j.queue
