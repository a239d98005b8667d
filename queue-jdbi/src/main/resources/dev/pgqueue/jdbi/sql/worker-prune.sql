-- Delete the records of workers that have not renewed their presence for 10 of their presence
-- intervals (V7): they died without closing. Their jobs were rescued after 3 intervals (rescue.sql).
-- A scan of the registry, one row per worker. Parameter: now (null = database clock).
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
DELETE FROM {schema}.job_queue_worker w
 USING clock
 WHERE w.last_heartbeat < clock.now - 10 * w.presence_interval
