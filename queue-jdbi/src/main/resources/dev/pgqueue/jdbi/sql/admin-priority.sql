-- JdbiJobAdmin.changePriority, one batch (its own transaction): the next waiting and pending jobs the
-- filter matches whose priority is another, by id after the previous batch's last, locked (rows
-- other transactions hold locked are skipped), given the new priority. Returns the batch's last id
-- (null when none was left) and how many were changed. {filter}: JdbiJobAdmin's conditions, every
-- value bound. Parameters: the new priority, the previous batch's last id, the filter's, the batch size.
WITH v AS (SELECT CAST(? AS integer) AS priority),
     picked AS MATERIALIZED (
         SELECT j.id
           FROM {schema}.job_queue j
          WHERE j.status IN ('waiting', 'pending') AND j.priority <> (SELECT v.priority FROM v)
            AND j.id > CAST(? AS uuid) AND {filter}
          ORDER BY j.id
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED),
     done AS (
         UPDATE {schema}.job_queue j
            SET priority = v.priority
           FROM picked p, v
          WHERE j.id = p.id
         RETURNING j.id)
SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1), (SELECT pg_catalog.count(*) FROM done)
