-- The paused queues (V7). Every worker reads this about once a second, so that a pause applies within
-- about a second whether or not its notification arrives: a scan of job_queue_queue, which holds one
-- small row per queue ever paused. No parameters.
SELECT queue FROM {schema}.job_queue_queue WHERE paused_at IS NOT NULL
