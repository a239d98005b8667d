-- FairFloor's sweep (issue 18): while a fair queue's claims start each partition key past its floor,
-- the first due pending job in claim order (priority, run_at, id) of each key that has one, for up to
-- `limit` keys in key order from just after :cursor (null: the first) round to it, found as
-- claim-fair-keys.sql finds them, of one queue and job types; in that order. The store moves a key's
-- floor back to just before that job when it sorts at or before the floor, learns keys it has no floor
-- for, and starts the next sweep after the last key when this one found `limit`. Read only,
-- and run on a connection of its own: its walk from the front of job_queue_fair_idx, over the entries
-- that earlier claims left dead, holds up no claim. Rows that other claimers hold locked are not
-- skipped here; the claims skip them. Returns the key, then the job's priority, run_at and id.
-- Sent between fair-plan-begin.sql and fair-plan-end.sql, its scans shaped as claim-fair.sql's.
-- Parameters: :now (null = database clock), :queue, :types, :limit, :cursor.
WITH RECURSIVE
     clock AS (SELECT coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     arg AS (SELECT CAST(:queue AS text) AS queue, CAST(:types AS text[]) AS types, CAST(:limit AS int) AS lim),
{keys}     firsts AS (
         SELECT k.key, k.pos, f.priority, f.run_at, f.id
           FROM keys k, arg, clock,
                LATERAL (SELECT j.priority, j.run_at, j.id
                           FROM {schema}.job_queue j
                          WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                            AND j.queue = arg.queue
                            AND coalesce(j.partition_key, CAST(j.user_id AS text)) >= k.key
                            AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= k.key
                            AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                          ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text)), j.priority, j.run_at, j.id
                          LIMIT 1) f)
SELECT key, priority, run_at, id FROM firsts ORDER BY pos
