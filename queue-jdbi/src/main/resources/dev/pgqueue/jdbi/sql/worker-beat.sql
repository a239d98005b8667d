-- Renew a worker's presence in the registry (V7): one UPDATE of its row by primary key (a HOT update:
-- no indexed column changes). Returns whether the row was still there (a worker whose record was
-- deleted as dead during a long stall registers again) and whether a dead worker (not renewed for 3
-- of its presence intervals) still holds processing jobs, so that the caller runs a rescue at once.
-- That second part reads the registry (one row per worker) and, only while a worker is dead, the
-- processing jobs through job_queue_lease_idx.
-- Parameters: now (null = database clock), running, id.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     beat AS (
         UPDATE {schema}.job_queue_worker w
            SET last_heartbeat = clock.now, running = CAST(? AS integer)
           FROM clock
          WHERE w.id = CAST(? AS text)
         RETURNING w.id),
     dead AS MATERIALIZED (
         SELECT w.id
           FROM {schema}.job_queue_worker w, clock
          WHERE w.last_heartbeat < clock.now - 3 * w.presence_interval)
SELECT EXISTS (SELECT 1 FROM beat) AS registered,
       CASE WHEN EXISTS (SELECT 1 FROM dead)
            THEN EXISTS (SELECT 1 FROM {schema}.job_queue j
                          WHERE j.status = 'processing' AND j.lease_owner IN (SELECT id FROM dead))
            ELSE false END AS orphans
