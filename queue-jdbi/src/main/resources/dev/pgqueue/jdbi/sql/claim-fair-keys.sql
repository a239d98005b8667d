-- claim-fair.sql's keys from the front of job_queue_fair_idx: the keys that have a due job, in key order
-- from just after `cursor` (where this store's previous fair claim of the queue stopped; null = from the
-- first key) around to the cursor, at most `limit` keys, with one descent of the index each (a loose
-- index scan: it never reads a key's backlog). Each descent starts at the key's first entry: while
-- something holds back the xmin horizon it walks the entries of that key's jobs claimed since
-- (claim-fair-keys-past-floors.sql does not). Parameter: :cursor.
     from_cursor AS (SELECT CAST(:cursor AS text) AS cursor),
     after_cursor (key, pos) AS (
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND (fc.cursor IS NULL OR coalesce(j.partition_key, CAST(j.user_id AS text)) > fc.cursor)
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), 1
           FROM arg, clock, from_cursor fc
         UNION ALL
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) > a.key
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), a.pos + 1
           FROM after_cursor a, arg, clock, from_cursor fc
          WHERE a.key IS NOT NULL AND a.pos < arg.lim),
     wrapped (key, pos) AS (
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= fc.cursor
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1),
                (SELECT pg_catalog.count(*) FROM after_cursor WHERE key IS NOT NULL) + 1
           FROM arg, clock, from_cursor fc
          WHERE fc.cursor IS NOT NULL
            AND (SELECT pg_catalog.count(*) FROM after_cursor WHERE key IS NOT NULL) < arg.lim
         UNION ALL
         SELECT (SELECT coalesce(j.partition_key, CAST(j.user_id AS text))
                   FROM {schema}.job_queue j
                  WHERE j.status = 'pending' AND (j.partition_key IS NOT NULL OR j.user_id IS NOT NULL)
                    AND j.queue = arg.queue
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) > w.key
                    AND coalesce(j.partition_key, CAST(j.user_id AS text)) <= fc.cursor
                    AND j.job_type = ANY (arg.types) AND j.run_at <= clock.now
                  ORDER BY coalesce(j.partition_key, CAST(j.user_id AS text))
                  LIMIT 1), w.pos + 1
           FROM wrapped w, arg, clock, from_cursor fc
          WHERE w.key IS NOT NULL AND w.pos < arg.lim),
     keys AS MATERIALIZED (
         SELECT key, pos FROM after_cursor WHERE key IS NOT NULL
         UNION ALL
         SELECT key, pos FROM wrapped WHERE key IS NOT NULL),
