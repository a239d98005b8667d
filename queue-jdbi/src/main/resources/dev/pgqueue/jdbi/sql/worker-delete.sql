-- Remove a closing worker's record from the registry (V7). Uses job_queue_worker_pkey. Parameter: id.
DELETE FROM {schema}.job_queue_worker WHERE id = CAST(? AS text)
