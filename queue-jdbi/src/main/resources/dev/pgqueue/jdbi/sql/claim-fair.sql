-- The claim of a fair queue: up to `limit` due pending jobs of one queue and the given job types,
-- taken round-robin across partition keys (coalesce(partition_key, user_id)) rather than in claim
-- order, so that one key's backlog cannot starve the others. It visits the keys that have a due job,
-- in key order from just after `cursor` (where this store's previous fair claim of the queue
-- stopped) around to the cursor, at most `limit` keys, with one descent of job_queue_fair_idx each
-- (a loose index scan: it never reads a key's backlog); takes the first ceil(limit / keys) due jobs
-- of each key in claim order (priority, run_at, id), skipping rows other claimers hold locked; and
-- keeps the first `limit` of those by round (each key's first job, then each key's second, ...), in
-- key order within a round. Each gets this claim's lease, as in claim.sql. Jobs with neither key are
-- not taken here: the caller fills what is left with claim.sql. Returns claim.sql's columns, then
-- the job's partition key and the key's position in this round (the caller's next cursor is the key
-- with the greatest position).
-- Parameters (in this order): now (null = database clock), queue, job types (text[]), limit, cursor
-- (null = from the first key), lease owner, lease token, lease duration in microseconds.
WITH RECURSIVE
     clock AS (SELECT coalesce(CAST(? AS timestamptz), statement_timestamp()) AS now),
     arg AS (SELECT CAST(? AS text) AS queue, CAST(? AS text[]) AS types, CAST(? AS int) AS lim,
                    CAST(? AS text) AS cursor),
     after_cursor (key, pos) AS (
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND (arg.cursor IS NULL OR coalesce(j.partition_key, CAST(j.user_id AS text)) > arg.cursor)
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), 1
           FROM arg, clock
         UNION ALL
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) > a.key
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), a.pos + 1
           FROM after_cursor a, arg, clock
          WHERE a.key IS NOT NULL AND a.pos < arg.lim),
     wrapped (key, pos) AS (
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= arg.cursor
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1),
                (SELECT count(*) FROM after_cursor WHERE key IS NOT NULL) + 1
           FROM arg, clock
          WHERE arg.cursor IS NOT NULL
            AND (SELECT count(*) FROM after_cursor WHERE key IS NOT NULL) < arg.lim
         UNION ALL
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) > w.key
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= arg.cursor
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), w.pos + 1
           FROM wrapped w, arg, clock
          WHERE w.key IS NOT NULL AND w.pos < arg.lim),
     keys AS MATERIALIZED (
         SELECT key, pos FROM after_cursor WHERE key IS NOT NULL
         UNION ALL
         SELECT key, pos FROM wrapped WHERE key IS NOT NULL),
     per_key AS (SELECT CAST(ceil(arg.lim / CAST(greatest(count(*), 1) AS numeric)) AS int) AS n FROM keys, arg GROUP BY arg.lim),
     candidates AS MATERIALIZED (
         SELECT c.id, c.priority, c.run_at, k.key, k.pos
           FROM keys k, arg, clock, per_key,
                LATERAL (SELECT j.id, j.priority, j.run_at
                           FROM {schema}.job_queue j
                          WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                            AND j.queue = arg.queue
                            AND coalesce(j.partition_key, CAST(j.user_id AS text)) = k.key
                            AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                          ORDER BY j.priority, j.run_at, j.id
                          LIMIT per_key.n
                            FOR UPDATE SKIP LOCKED) c),
     chosen AS (
         SELECT id, key, pos
           FROM (SELECT id, key, pos,
                        row_number() OVER (PARTITION BY key ORDER BY priority, run_at, id) AS round
                   FROM candidates) r
          ORDER BY round, pos
          LIMIT (SELECT lim FROM arg))
UPDATE {schema}.job_queue j
   SET status = 'processing',
       attempt = j.attempt + 1,
       processed_at = clock.now,
       lease_owner = ?,
       lease_token = ?,
       lease_expires_at = clock.now + ? * interval '1 microsecond'
  FROM clock, chosen
 WHERE j.id = chosen.id
RETURNING j.id, j.job_type, j.queue, CAST(j.payload AS text), j.attempt, j.retry_count, j.max_retries,
          j.priority, j.run_at, j.created_at, j.user_id, j.lease_token, j.lease_expires_at,
          chosen.key, chosen.pos
