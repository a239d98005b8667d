-- End the uniqueness of jobs whose period has passed (an enqueue of their key found them holding it):
-- their states become empty, which takes them out of job_queue_dedupe_idx. Parameters: now (null =
-- database clock), ids (uuid[]).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
UPDATE {schema}.job_queue j
   SET unique_states = '{}'
  FROM clock
 WHERE j.id = ANY (CAST(? AS uuid[]))
   AND j.dedupe_key IS NOT NULL
   AND j.unique_until <= clock.now
