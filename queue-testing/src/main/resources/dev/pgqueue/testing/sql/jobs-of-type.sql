-- Every job of one type, oldest first, for assertions. Parameter: job type.
SELECT id, status, CAST(payload AS text)
  FROM {schema}.job_queue
 WHERE job_type = CAST(? AS text)
 ORDER BY created_at, id
