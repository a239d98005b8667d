-- JdbiJobAdmin.job: one job's row (the columns of get.sql), its attempt history (V6), the jobs it
-- depends on and the jobs that depend on it (job_queue_dependency_pkey and
-- job_queue_dependency_depends_on_idx), and the trace context its producer recorded (V8). Parameter: id.
SELECT j.id, j.job_type, j.queue, j.status, CAST(j.payload AS text), j.priority, j.attempt, j.retry_count,
       j.max_retries, j.run_at, j.created_at, j.processed_at, j.completed_at, j.error_message, j.user_id,
       j.dedupe_key, CAST(j.result AS text), j.progress_percent, j.progress_message, j.progress_at,
       CAST(j.history AS text),
       ARRAY(SELECT e.depends_on FROM {schema}.job_queue_dependency e WHERE e.job_id = j.id ORDER BY e.depends_on),
       ARRAY(SELECT e.job_id FROM {schema}.job_queue_dependency e WHERE e.depends_on = j.id ORDER BY e.job_id),
       CAST(j.trace_context AS text)
  FROM {schema}.job_queue j
 WHERE j.id = CAST(? AS uuid)
