-- JdbiJobAdmin.find: one page of the jobs a filter matches, keyset-paged by (created_at, id), newest
-- or oldest first; the columns of get.sql. {filter} is JdbiJobAdmin's conditions, every value in
-- them bound; {keyset} is empty on the first page, else "AND (j.created_at, j.id) < (?, ?)" (or >);
-- {direction} is DESC or ASC. Parameters: the filter's, the cursor's (if any), the limit.
-- A status filter is written as literals, so the planner can use the partial index of that status.
-- Without one, a page sorts the matching rows (docs/admin.md, "How fast").
SELECT j.id, j.job_type, j.queue, j.status, CAST(j.payload AS text), j.priority, j.attempt, j.retry_count,
       j.max_retries, j.run_at, j.created_at, j.processed_at, j.completed_at, j.error_message, j.user_id,
       j.dedupe_key, CAST(j.result AS text), j.progress_percent, j.progress_message, j.progress_at
  FROM {schema}.job_queue j
 WHERE {filter} {keyset}
 ORDER BY j.created_at {direction}, j.id {direction}
 LIMIT CAST(? AS integer)
