-- The greatest dedupe key, in code point order, among jobs of one type whose key starts with a prefix
-- and still blocks duplicates; the recurring-job scheduler finds a schedule's latest tick this way.
-- Uses job_queue_dedupe_idx (job_type, then its predicate). Parameters: job type, key prefix, the
-- greatest key to consider (null = no bound).
SELECT pg_catalog.max(dedupe_key COLLATE "C")
  FROM {schema}.job_queue
 WHERE job_type = CAST(? AS text)
   AND dedupe_key IS NOT NULL
   AND status = ANY (coalesce(unique_states, '{pending,processing}'::text[]))
   AND pg_catalog.starts_with(dedupe_key, CAST(? AS text))
   AND (dedupe_key COLLATE "C") OPERATOR(pg_catalog.<=) coalesce(CAST(? AS text), dedupe_key) COLLATE "C"
