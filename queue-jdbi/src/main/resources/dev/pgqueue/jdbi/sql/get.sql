-- One job's row. Parameter: id.
SELECT id, job_type, queue, status, CAST(payload AS text), priority, attempt, retry_count, max_retries,
       run_at, created_at, processed_at, completed_at, error_message, user_id,
       dedupe_key, CAST(result AS text), progress_percent, progress_message, progress_at
  FROM {schema}.job_queue
 WHERE id = CAST(? AS uuid)
