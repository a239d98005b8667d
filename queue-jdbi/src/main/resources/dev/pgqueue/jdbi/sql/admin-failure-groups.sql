-- JdbiJobAdmin.failureGroups: failed jobs the filter matches, grouped by queue, job type and the first
-- line of their error, largest group first (job_queue_failure_groups, V6, with a filter). Uses
-- job_queue_failed_idx. {filter}: JdbiJobAdmin's conditions, every value bound.
-- Parameters: the filter's, the most groups.
SELECT j.queue, j.job_type, pg_catalog.split_part(coalesce(j.error_message, ''), E'\n', 1) AS error,
       pg_catalog.count(*), pg_catalog.min(j.completed_at), pg_catalog.max(j.completed_at)
  FROM {schema}.job_queue j
 WHERE j.status = 'failed' AND {filter}
 GROUP BY 1, 2, 3
 ORDER BY 4 DESC, 1, 2, 3
 LIMIT CAST(? AS integer)
