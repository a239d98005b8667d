-- The rows of the jobs one job depends on that still exist, oldest first; the columns of get.sql.
-- Uses job_queue_dependency_pkey. Parameter: the dependent job's id.
SELECT j.id, j.job_type, j.queue, j.status, CAST(j.payload AS text), j.priority, j.attempt, j.retry_count,
       j.max_retries, j.run_at, j.created_at, j.processed_at, j.completed_at, j.error_message, j.user_id,
       j.dedupe_key, CAST(j.result AS text), j.progress_percent, j.progress_message, j.progress_at
  FROM {schema}.job_queue_dependency e
  JOIN {schema}.job_queue j ON j.id = e.depends_on
 WHERE e.job_id = CAST(? AS uuid)
 ORDER BY j.created_at, j.id
