-- The live workers of the registry (V7), newest first: renewed within 3 of their presence intervals.
-- A scan of job_queue_worker, one row per worker. Parameter: now (null = database clock).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
SELECT w.id, w.host, w.pid, CAST(w.queues AS text), w.version, w.started_at, w.last_heartbeat, w.running,
       CAST(w.recurring AS text)
  FROM {schema}.job_queue_worker w, clock
 WHERE w.last_heartbeat >= clock.now - 3 * w.presence_interval
 ORDER BY w.started_at DESC, w.id
