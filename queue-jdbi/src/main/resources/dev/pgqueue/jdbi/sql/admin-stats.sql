-- JdbiJobAdmin.queueStats: the job_queue_stats view (V6), one pass over job_queue. No parameters.
SELECT s.queue, s.waiting, s.pending, s.processing, s.completed, s.failed, s.cancelled,
       CAST(pg_catalog.date_part('epoch', s.oldest_pending_age) * 1000000 AS bigint),
       s.completed_1m, s.completed_5m, s.completed_15m, s.failed_1m, s.failed_5m, s.failed_15m
  FROM {schema}.job_queue_stats s
 ORDER BY s.queue
