-- How many jobs of each other type there are, for assertion messages. Parameter: the job type to leave out.
SELECT job_type, pg_catalog.count(*)
  FROM {schema}.job_queue
 WHERE job_type <> CAST(? AS text)
 GROUP BY job_type
 ORDER BY job_type
