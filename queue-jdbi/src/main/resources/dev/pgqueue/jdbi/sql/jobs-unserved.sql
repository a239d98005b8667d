-- Pending jobs due for longer than a given time whose queue and job type no live worker of the
-- registry (V7) serves, per queue and type, most first: they wait until a worker for them starts.
-- Live: renewed within 3 of its presence intervals. Reads the pending jobs due before the cut-off
-- (in a queue that keeps up there are few; a backlog of 100,000 took about 0.4 s) and the registry.
-- With a worker id given, it answers only if that worker is the oldest live one (a one-time filter:
-- nothing is read otherwise), so that one worker of the table runs the periodic check.
-- Parameters: now (null = database clock), worker id or null, how long due in microseconds, the most
-- groups returned.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now,
                      CAST(? AS text) AS only_for),
     served AS MATERIALIZED (
         SELECT q.queue, t.job_type
           FROM {schema}.job_queue_worker w
           CROSS JOIN clock
           CROSS JOIN LATERAL pg_catalog.jsonb_object_keys(w.queues) AS q(queue)
           CROSS JOIN LATERAL pg_catalog.unnest(w.job_types) AS t(job_type)
          WHERE w.last_heartbeat >= clock.now - 3 * w.presence_interval),
     oldest AS MATERIALIZED (
         SELECT w.id
           FROM {schema}.job_queue_worker w, clock
          WHERE w.last_heartbeat >= clock.now - 3 * w.presence_interval
          ORDER BY w.started_at, w.id
          LIMIT 1)
SELECT j.queue, j.job_type, pg_catalog.count(*) AS jobs, pg_catalog.min(j.run_at) AS oldest_due
  FROM {schema}.job_queue j, clock
 WHERE ((SELECT only_for FROM clock) IS NULL OR (SELECT only_for FROM clock) = (SELECT id FROM oldest))
   AND j.status = 'pending'
   AND j.run_at < clock.now - CAST(? AS double precision) * interval '1 microsecond'
   AND NOT EXISTS (SELECT 1 FROM served s WHERE s.queue = j.queue AND s.job_type = j.job_type)
 GROUP BY j.queue, j.job_type
 ORDER BY jobs DESC, j.queue, j.job_type
 LIMIT CAST(? AS integer)
