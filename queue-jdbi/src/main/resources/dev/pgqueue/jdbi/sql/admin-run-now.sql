-- JdbiJobAdmin.runNow, one batch (its own transaction): the next pending jobs the filter matches that
-- are not due yet, by id after the previous batch's last, locked (rows other transactions hold locked
-- are skipped), made due now; the workers of their queues are woken as an insert wakes them. Returns
-- the batch's last id (null when none was left) and how many were changed.
-- {filter}: JdbiJobAdmin's conditions, every value bound.
-- Parameters: the previous batch's last id, the filter's, the batch size.
WITH picked AS MATERIALIZED (
         SELECT j.id
           FROM {schema}.job_queue j
          WHERE j.status = 'pending' AND j.run_at > pg_catalog.statement_timestamp()
            AND j.id > CAST(? AS uuid) AND {filter}
          ORDER BY j.id
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED),
     done AS (
         UPDATE {schema}.job_queue j
            SET run_at = pg_catalog.statement_timestamp()
           FROM picked p
          WHERE j.id = p.id
         RETURNING j.queue)
SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1),
       (SELECT pg_catalog.count(*) FROM done),
       (SELECT pg_catalog.count(pg_catalog.pg_notify({schema}.job_queue_channel(), q.queue))
          FROM (SELECT DISTINCT d.queue FROM done d) q)
