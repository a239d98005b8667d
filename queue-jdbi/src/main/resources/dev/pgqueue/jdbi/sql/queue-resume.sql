-- Resume a queue (V7's job_queue_resume: records it and notifies the workers). Parameter: the queue.
SELECT {schema}.job_queue_resume(CAST(? AS text))
