-- Every claim policy (job_queue_policy), for the store's cache of them: queue, job_type ('*' = the
-- whole queue), max_running, max_starts, starts_period in microseconds, fair.
SELECT queue, job_type, max_running, max_starts,
       CAST(extract(epoch FROM starts_period) * CAST(1000000 AS numeric) AS bigint), fair
  FROM {schema}.job_queue_policy
 ORDER BY queue, job_type
