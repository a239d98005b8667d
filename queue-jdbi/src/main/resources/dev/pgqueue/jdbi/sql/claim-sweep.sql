-- ClaimFloor's sweep (issue 18): while claims start past the store's floor, the ids of up to `limit` due
-- pending jobs of one queue and job types that sort before it, in claim order (the floor's own key
-- too: the last job claimed, if it was released or its claim rolled back), for the next claim to
-- take by id (claim.sql with its found-jobs placeholder). Read only, and run on a connection of its own:
-- its walk from the claim index's front, over the entries that earlier claims left dead, holds up no
-- claim. Rows that other claimers hold locked are not skipped here; the claim by id skips them.
-- Parameters: :now (null = database clock), :queue, :types, :limit, :floor_priority, :floor_run_at,
-- :floor_id.
SELECT id
  FROM {schema}.job_queue
 WHERE status = 'pending'
   AND queue = CAST(:queue AS text)
   AND job_type = ANY (CAST(:types AS text[]))
   AND run_at <= coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp())
   AND (priority, run_at, id) <= (CAST(:floor_priority AS integer), CAST(:floor_run_at AS timestamptz),
                                  CAST(:floor_id AS uuid))
 ORDER BY priority, run_at, id
 LIMIT CAST(:limit AS integer)
