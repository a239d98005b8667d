-- claim-fair.sql's keys past this store's floors (FairFloor, issue 18: while something holds back the
-- xmin horizon): of the keys given, in the order given (key order from the cursor, around to it), the
-- first `limit` that have a due job past their floor, each found with one descent of job_queue_fair_idx
-- that starts just past the floor, never over an entry of a job this store claimed from the key; and
-- each key's floor, for claim-fair.sql to take the key's jobs past it. Keys that are not given (new
-- ones) and jobs before their key's floor are not found here (FairFloor says when they are). A key's
-- due job is asked for as the first in the fair index's order (LIMIT 1), not with EXISTS, which would
-- drop the ORDER BY that keeps the claim index out (claim-fair.sql, fair-plan-begin.sql).
-- Parameters: :keys (text[]) and, for each, its floor in claim order: :floor_priorities (integer[]),
-- :floor_run_ats (text[] of timestamptz), :floor_ids (uuid[]).
     floors AS (SELECT CAST(:keys AS text[]) AS keys, CAST(:floor_priorities AS integer[]) AS priorities,
                       CAST(CAST(:floor_run_ats AS text[]) AS timestamptz[]) AS run_ats, CAST(:floor_ids AS uuid[]) AS ids),
     visit (i, pos, due) AS (
         SELECT 0, 0, false
         UNION ALL
         SELECT v.i + 1, v.pos + CASE WHEN d.due THEN 1 ELSE 0 END, d.due
           FROM visit v, arg, clock, floors f,
                LATERAL (SELECT (SELECT true
                                   FROM {schema}.job_queue j
                                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                                    AND j.queue = arg.queue
                                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) >= f.keys[v.i + 1]
                                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= f.keys[v.i + 1]
                                    AND (j.priority, j.run_at, j.id) > (f.priorities[v.i + 1], f.run_ats[v.i + 1], f.ids[v.i + 1])
                                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text)), j.priority, j.run_at, j.id
                                  LIMIT 1) IS NOT NULL AS due) d
          WHERE v.i < pg_catalog.cardinality(f.keys) AND v.pos < arg.lim),
     keys AS MATERIALIZED (
         SELECT f.keys[v.i] AS key, v.pos, f.priorities[v.i] AS floor_priority, f.run_ats[v.i] AS floor_run_at,
                f.ids[v.i] AS floor_id
           FROM visit v, floors f
          WHERE v.due),
