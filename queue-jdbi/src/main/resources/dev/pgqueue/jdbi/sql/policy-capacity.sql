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
-- Parameters: now (null = database clock), queues (text[]), job types (text[], '*' = the whole
-- queue), pairwise. Returns per limit: queue, job_type, max_running, running, max_starts, started,
-- the time the rate window has room again (null if it has), now.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     p AS MATERIALIZED (
         SELECT p.queue, p.job_type, p.max_running, p.max_starts, p.starts_period
           FROM {schema}.job_queue_policy p
           JOIN unnest(CAST(? AS text[]), CAST(? AS text[])) AS k(queue, job_type)
             ON p.queue = k.queue AND p.job_type = k.job_type),
     forgotten AS (
         DELETE FROM {schema}.job_queue_policy_start s
          USING p, clock
          WHERE s.queue = p.queue AND s.job_type = p.job_type
            AND s.started_at <= clock.now - coalesce(p.starts_period, interval '0')
            AND (SELECT j.status FROM {schema}.job_queue j
                  WHERE j.id = s.job_id AND j.lease_token = s.lease_token) IS DISTINCT FROM 'processing')
SELECT p.queue, p.job_type, p.max_running,
       CASE WHEN p.max_running IS NOT NULL THEN
           (SELECT pg_catalog.count(*)
              FROM {schema}.job_queue_policy_start s
             WHERE s.queue = p.queue AND s.job_type = p.job_type
               AND (SELECT j.status FROM {schema}.job_queue j
                     WHERE j.id = s.job_id AND j.lease_token = s.lease_token) = 'processing') END AS running,
       p.max_starts,
       w.started,
       CASE WHEN w.started >= p.max_starts THEN
           (SELECT s.started_at
              FROM {schema}.job_queue_policy_start s
             WHERE s.queue = p.queue AND s.job_type = p.job_type AND s.started_at > clock.now - p.starts_period
             ORDER BY s.started_at
            OFFSET w.started - p.max_starts
             LIMIT 1) + p.starts_period END AS room_at,
       clock.now
  FROM clock, p
  LEFT JOIN LATERAL (
           SELECT pg_catalog.count(*) AS started
             FROM {schema}.job_queue_policy_start s, clock
            WHERE p.max_starts IS NOT NULL
              AND s.queue = p.queue AND s.job_type = p.job_type AND s.started_at > clock.now - p.starts_period) w ON true
