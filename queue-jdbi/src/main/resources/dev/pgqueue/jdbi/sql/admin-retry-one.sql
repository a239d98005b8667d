-- JdbiJobAdmin.retryWithPayload, last: retry the edited job (job_queue_retry, V6). Parameters: id, note.
SELECT {schema}.job_queue_retry(ARRAY[CAST(? AS uuid)], CAST(? AS text))
