-- The claim of a fair queue: up to `limit` due pending jobs of one queue and the given job types,
-- taken round-robin across partition keys (coalesce(partition_key, user_id)) rather than in claim
-- order, so that one key's backlog cannot starve the others. It visits keys that have a due job, at
-- most `limit` of them, in key order from where this store's previous fair claim of the queue stopped
-- around to there; a placeholder (QueuePolicies.claimFairStatement) chooses how it finds them:
-- claim-fair-keys.sql from the front of job_queue_fair_idx, or claim-fair-keys-past-floors.sql past
-- each key's floor (FairFloor, while something holds back the xmin horizon), with a second placeholder
-- bounding each key's walk below in the same way. It takes the first ceil(limit / keys) due jobs of each key in
-- claim order (priority, run_at, id), skipping rows other claimers hold locked; and keeps the first
-- `limit` of those by round (each key's first job, then each key's second, ...), in key order within a
-- round. Each gets this claim's lease, as in claim.sql. Jobs with neither key are not taken here: the
-- caller fills what is left with claim.sql. Returns claim.sql's columns, then the job's partition key
-- and the key's position in this round (the caller's next cursor is the key with the greatest
-- position), the status, the claim's time (processed_at) and the producer's trace context (V8; null
-- for none).
-- The byte budget and the payload limit apply as in claim.sql: the jobs kept stop before the one that
-- would take their payloads past the budget (in the order above; the first always fits), and a job
-- over job_queue_max_payload_bytes() fails here, unrun: its row comes back with status 'failed' and
-- no payload, for the caller to leave out (the last column is the status).
-- Last, on one of the rows only (null on the others, and when it locked nothing it did not take), four
-- arrays in key order: for each key of which it locked due jobs and did not take them all (a round the
-- limit or the byte budget cut), the first of those in claim order (key, priority, run_at in microseconds
-- since the epoch, null for -infinity, id). It held them locked until its transaction ended, so a concurrent fair claim of
-- the same store skipped them and may have moved the key's floor past them; the caller hands them to
-- FairFloor once those locks are gone.
-- Every scan of job_queue for pending jobs here (the keys' fragment's too) is ordered by the key first,
-- and one key's jobs are matched as a range (>= and <=), not with =: sent between fair-plan-begin.sql
-- and fair-plan-end.sql, which turn sorting off, only job_queue_fair_idx can then answer those scans
-- (fair-plan-begin.sql says why).
-- Parameters: :now (null = database clock), :queue, :types (job types), :limit, :byte_budget,
-- :lease_owner, :lease_token, :lease_micros (lease duration in microseconds), and those of the keys'
-- fragment.
WITH RECURSIVE
     clock AS (SELECT coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()) AS now,
                      {schema}.job_queue_max_payload_bytes_constant() AS max_bytes),
     arg AS (SELECT CAST(:queue AS text) AS queue, CAST(:types AS text[]) AS types, CAST(:limit AS int) AS lim,
                    CAST(:byte_budget AS bigint) AS budget),
{keys}     per_key AS (SELECT CAST(pg_catalog.ceil(CAST(arg.lim AS numeric) / CAST(greatest(pg_catalog.count(*), 1) AS numeric)) AS int) AS n FROM keys, arg GROUP BY arg.lim),
     candidates AS MATERIALIZED (
         SELECT c.id, c.priority, c.run_at, c.bytes, k.key, k.pos
           FROM keys k, arg, clock, per_key,
                LATERAL (SELECT j.id, j.priority, j.run_at, pg_catalog.octet_length(CAST(j.payload AS text)) AS bytes
                           FROM {schema}.job_queue j
                          WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                            AND j.queue = arg.queue
                            AND coalesce(j.partition_key, CAST(j.user_id AS text)) >= k.key
                            AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= k.key{key_floor}
                            AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                          ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text)), j.priority, j.run_at, j.id
                          LIMIT per_key.n
                            FOR UPDATE SKIP LOCKED) c),
     ranked AS (
         SELECT id, key, pos, bytes, round
           FROM (SELECT id, key, pos, bytes,
                        pg_catalog.row_number() OVER (PARTITION BY key ORDER BY priority, run_at, id) AS round
                   FROM candidates) r
          ORDER BY round, pos
          LIMIT (SELECT lim FROM arg)),
     sized AS MATERIALIZED (
         SELECT r.id, r.key, r.pos, r.round, r.bytes,
                r.bytes > clock.max_bytes AND r.bytes > {schema}.job_queue_max_payload_bytes() AS oversized
           FROM ranked r, clock),
     chosen AS MATERIALIZED (
         SELECT s.id, s.key, s.pos, s.oversized
           FROM (SELECT z.id, z.key, z.pos, z.bytes, z.oversized,
                        pg_catalog.sum(CASE WHEN z.oversized THEN 0 ELSE z.bytes END)
                            OVER (ORDER BY z.round, z.pos) AS running
                   FROM sized z) s, arg
          WHERE s.oversized OR s.running - s.bytes < arg.budget),
     unkept AS MATERIALIZED (
         SELECT pg_catalog.array_agg(f.key ORDER BY f.key) AS keys,
                pg_catalog.array_agg(f.priority ORDER BY f.key) AS priorities,
                pg_catalog.array_agg(CASE WHEN pg_catalog.isfinite(f.run_at)
                                          THEN CAST(extract(epoch FROM f.run_at) * 1000000 AS bigint) END ORDER BY f.key) AS run_at_micros,
                pg_catalog.array_agg(f.id ORDER BY f.key) AS ids
           FROM (SELECT DISTINCT ON (c.key) c.key, c.priority, c.run_at, c.id
                   FROM candidates c
                  WHERE NOT EXISTS (SELECT 1 FROM chosen WHERE chosen.id = c.id)
                  ORDER BY c.key, c.priority, c.run_at, c.id) f),
     first_chosen AS MATERIALIZED (SELECT chosen.id FROM chosen LIMIT 1)
UPDATE {schema}.job_queue j
   SET status = CASE WHEN chosen.oversized THEN 'failed' ELSE 'processing' END,
       attempt = CASE WHEN chosen.oversized THEN j.attempt ELSE j.attempt + 1 END,
       processed_at = CASE WHEN chosen.oversized THEN j.processed_at ELSE clock.now END,
       completed_at = CASE WHEN chosen.oversized THEN clock.now END,
       error_message = CASE WHEN chosen.oversized
                            THEN pg_catalog.format('expected payload to be at most %s bytes of JSON (job_queue_setting.max_payload_bytes), got: %s bytes; failed when claimed, without running',
                                                   {schema}.job_queue_max_payload_bytes(), pg_catalog.octet_length(CAST(j.payload AS text)))
                            ELSE j.error_message END,
       lease_owner = CASE WHEN chosen.oversized THEN j.lease_owner ELSE CAST(:lease_owner AS text) END,
       lease_token = CASE WHEN chosen.oversized THEN j.lease_token ELSE CAST(:lease_token AS uuid) END,
       lease_expires_at = CASE WHEN chosen.oversized THEN j.lease_expires_at
                               ELSE clock.now + CAST(:lease_micros AS double precision) * interval '1 microsecond' END
  FROM clock, unkept, chosen
 WHERE j.id = chosen.id
RETURNING j.id, j.job_type, j.queue, CASE WHEN j.status = 'processing' THEN CAST(j.payload AS text) END AS payload,
          j.attempt, j.retry_count, j.max_retries, j.priority, j.run_at, j.created_at, j.user_id,
          j.lease_token, j.lease_expires_at, chosen.key, chosen.pos, j.status,
          j.processed_at, CAST(j.trace_context AS text) AS trace_context,
          CASE WHEN j.id = (SELECT id FROM first_chosen) THEN unkept.keys END AS unkept_keys,
          CASE WHEN j.id = (SELECT id FROM first_chosen) THEN unkept.priorities END AS unkept_priorities,
          CASE WHEN j.id = (SELECT id FROM first_chosen) THEN unkept.run_at_micros END AS unkept_run_at_micros,
          CASE WHEN j.id = (SELECT id FROM first_chosen) THEN unkept.ids END AS unkept_ids
