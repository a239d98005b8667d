-- Lock the existing jobs that new jobs are to depend on, in id order (so that two enqueues cannot
-- deadlock), until the enqueuing transaction ends: none of them can finish between this read of its
-- status and the commit that makes the new jobs and their dependency rows visible to the trigger
-- that releases dependents. Writes nothing (insert-dependencies.sql marks them once the enqueue is
-- known to be valid). Returns each one found: id, job_type, status (as locked); a missing id is a
-- job that does not exist. Uses the primary key. Parameter: ids (uuid[]).
SELECT id, job_type, status
  FROM {schema}.job_queue
 WHERE id = ANY (CAST(? AS uuid[]))
 ORDER BY id
   FOR NO KEY UPDATE
