-- How much each limit of a claim allows now, under its advisory lock (policy-lock.sql): the limit's
-- row (read now, so that a change by SQL applies at once), the jobs running under it (started under
-- it and still processing under the same lease token: jobs that finished, or were rescued and
-- claimed again, no longer count) and the starts within its rate period, with the time at which the
-- window has room again if it is full. Also deletes the start rows no longer needed (older than the
-- period and no longer running). Uses job_queue_policy_pkey and job_queue_policy_start_pkey; each
-- start's job is looked up by job_queue_pkey in a scalar subquery, which the planner cannot turn into
-- a join: as a join it may instead walk the whole of job_queue_lease_idx (every processing job, and
-- the dead entries of finished ones) once per start, when the table's statistics say it holds few
-- starts (measured: 2.5 s per claim with 1,000 starts and a held xmin horizon, against 15 ms).
-- The walk of a limit's starts begins at `since`, which the caller has from this statement's previous
-- run for the limit (kept_since): every start before it was deleted then, so the walk skips the
-- entries those deletions left, which stay in the index while something holds back the xmin horizon
-- (null = from the first start). Starts are recorded with their claim's time, and claims of a limit
-- take turns under its lock, so a start recorded since is not before it; never after what this
-- claim's rate window needs either.
-- Parameters: now (null = database clock), queues (text[]), job types (text[], '*' = the whole
-- queue), since (text[] of timestamps, null = from the first start), pairwise. Returns per limit: queue,
-- job_type, max_running, running, max_starts, started, the time the rate window has room again (null
-- if it has), now, and kept_since: where the next walk of the limit's starts may begin (the first
-- start still running, or the rate window's start if earlier).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     p AS MATERIALIZED (
         SELECT p.queue, p.job_type, p.max_running, p.max_starts, p.starts_period,
                -- Where this limit's walk of its starts begins: never after what this claim's rate window needs.
                least(coalesce(CAST(k.since AS timestamptz), CAST('-infinity' AS timestamptz)),
                      clock.now - coalesce(p.starts_period, interval '0')) AS since,
                clock.now - coalesce(p.starts_period, interval '0') AS window_start
           FROM clock, {schema}.job_queue_policy p
           JOIN unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) AS k(queue, job_type, since)
             ON p.queue = k.queue AND p.job_type = k.job_type),
     -- The starts whose job must be looked at: all of a concurrency limit's, only those before the rate
     -- window for a rate limit (those in it are kept and counted anyway). OFFSET 0 keeps the subquery
     -- from being joined as a whole: each limit's walk is an index scan from its own `since`, even when
     -- the statistics say the table holds next to nothing (the planner then likes to walk all of it).
     looked AS MATERIALIZED (
         SELECT p.queue, p.job_type, l.row_id, l.started_at, l.in_window, l.running
           FROM p, LATERAL (
                SELECT s.ctid AS row_id, s.started_at, s.started_at > p.window_start AS in_window,
                       coalesce((SELECT j.status FROM {schema}.job_queue j
                                  WHERE j.id = s.job_id AND j.lease_token = s.lease_token) = 'processing', false) AS running
                  FROM {schema}.job_queue_policy_start s
                 WHERE s.queue = p.queue AND s.job_type = p.job_type AND s.started_at >= p.since
                   AND s.started_at <= CASE WHEN p.max_running IS NOT NULL THEN CAST('infinity' AS timestamptz)
                                            ELSE p.window_start END -- both ends index conditions
                OFFSET 0) l),
     -- Deleted by their row ids (a TID scan): no second walk of the index.
     forgotten AS (
         DELETE FROM {schema}.job_queue_policy_start s
          WHERE s.ctid = ANY (ARRAY(SELECT l.row_id FROM looked l WHERE NOT l.in_window AND NOT l.running))),
     kept AS (
         SELECT p.queue, p.job_type,
                pg_catalog.count(l.running) FILTER (WHERE l.running) AS running,
                least(pg_catalog.min(l.started_at) FILTER (WHERE l.running), p.window_start) AS kept_since
           FROM p
           LEFT JOIN looked l ON l.queue = p.queue AND l.job_type = p.job_type
          GROUP BY p.queue, p.job_type, p.window_start)
SELECT p.queue, p.job_type, p.max_running,
       CASE WHEN p.max_running IS NOT NULL THEN kept.running END AS running,
       p.max_starts,
       w.started,
       CASE WHEN w.started >= p.max_starts THEN
           (SELECT s.started_at
              FROM {schema}.job_queue_policy_start s
             WHERE s.queue = p.queue AND s.job_type = p.job_type AND s.started_at > p.window_start
             ORDER BY s.started_at
            OFFSET w.started - p.max_starts
             LIMIT 1) + p.starts_period END AS room_at,
       clock.now,
       kept.kept_since
  FROM clock, p
  JOIN kept ON kept.queue = p.queue AND kept.job_type = p.job_type
  LEFT JOIN LATERAL (
           SELECT pg_catalog.count(*) AS started
             FROM {schema}.job_queue_policy_start s
            WHERE p.max_starts IS NOT NULL
              AND s.queue = p.queue AND s.job_type = p.job_type AND s.started_at > p.window_start) w ON true
