-- The rows of the jobs of some types and statuses, oldest first, for test tools (the queue tester);
-- the columns of get.sql. Reads every matching row (no index serves an empty filter).
-- Parameters: :types (empty = every type), :statuses (empty = every status), :due_only, :now (null =
-- database clock), :limit.
SELECT id, job_type, queue, status, CAST(payload AS text), priority, attempt, retry_count, max_retries,
       run_at, created_at, processed_at, completed_at, error_message, user_id,
       dedupe_key, CAST(result AS text), progress_percent, progress_message, progress_at
  FROM {schema}.job_queue
 WHERE (pg_catalog.cardinality(CAST(:types AS text[])) OPERATOR(pg_catalog.=) 0 OR job_type = ANY (CAST(:types AS text[])))
   AND (pg_catalog.cardinality(CAST(:statuses AS text[])) OPERATOR(pg_catalog.=) 0 OR status = ANY (CAST(:statuses AS text[])))
   AND (NOT CAST(:due_only AS boolean) OR run_at <= coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()))
 ORDER BY created_at, id
 LIMIT CAST(:limit AS integer)
