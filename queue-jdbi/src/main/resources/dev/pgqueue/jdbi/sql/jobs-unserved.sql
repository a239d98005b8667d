-- Pending jobs due for longer than a given time whose queue and job type no live worker of the
-- registry (V7) serves, per queue and type, most first: they wait until a worker for them starts.
-- Live: renewed within 3 of its presence intervals. Reads the pending jobs due before the cut-off
-- (through job_queue_claim_idx; in a healthy queue there are few) and the registry.
-- Parameters: now (null = database clock), how long due in microseconds, the most groups returned.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     served AS MATERIALIZED (
         SELECT q.queue, t.job_type
           FROM {schema}.job_queue_worker w
           CROSS JOIN clock
           CROSS JOIN LATERAL pg_catalog.jsonb_object_keys(w.queues) AS q(queue)
           CROSS JOIN LATERAL pg_catalog.unnest(w.job_types) AS t(job_type)
          WHERE w.last_heartbeat >= clock.now - 3 * w.presence_interval)
SELECT j.queue, j.job_type, pg_catalog.count(*) AS jobs, pg_catalog.min(j.run_at) AS oldest_due
  FROM {schema}.job_queue j, clock
 WHERE j.status = 'pending'
   AND j.run_at < clock.now - CAST(? AS double precision) * interval '1 microsecond'
   AND NOT EXISTS (SELECT 1 FROM served s WHERE s.queue = j.queue AND s.job_type = j.job_type)
 GROUP BY j.queue, j.job_type
 ORDER BY jobs DESC, j.queue, j.job_type
 LIMIT CAST(? AS integer)
