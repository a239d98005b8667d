-- JdbiJobAdmin.queueStats, exact part 1: waiting, pending and processing jobs per queue, each read from
-- the partial index that holds only jobs of that status (job_queue_waiting_idx and job_queue_claim_idx
-- index-only, job_queue_lease_idx), and how long the oldest due pending job has been due (microseconds;
-- null when none is due). Costs one index entry per job in those states, whatever the table's size.
-- No parameters.
SELECT j.queue, 'waiting', pg_catalog.count(*), CAST(NULL AS bigint)
  FROM {schema}.job_queue j
 WHERE j.status = 'waiting'
 GROUP BY j.queue
UNION ALL
SELECT j.queue, 'pending', pg_catalog.count(*),
       CAST(pg_catalog.date_part('epoch', pg_catalog.now()
            - pg_catalog.min(j.run_at) FILTER (WHERE j.run_at <= pg_catalog.now())) * 1000000 AS bigint)
  FROM {schema}.job_queue j
 WHERE j.status = 'pending'
 GROUP BY j.queue
UNION ALL
SELECT j.queue, 'processing', pg_catalog.count(*), CAST(NULL AS bigint)
  FROM {schema}.job_queue j
 WHERE j.status = 'processing'
 GROUP BY j.queue
