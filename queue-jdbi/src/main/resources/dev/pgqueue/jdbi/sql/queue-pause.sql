-- Pause a queue (V7's job_queue_pause: records it and notifies the workers). Parameter: the queue.
SELECT {schema}.job_queue_pause(CAST(? AS text))
