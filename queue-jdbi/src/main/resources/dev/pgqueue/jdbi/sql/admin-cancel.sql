-- JdbiJobAdmin.cancel, one batch (its own transaction): the next waiting, pending or processing jobs
-- (not yet asked to stop) the filter matches, by id after the previous batch's last, locked (rows
-- other transactions hold locked are skipped), cancelled by job_queue_cancel_jobs() (V6): at once, or
-- for a processing job by asking its worker. Returns the batch's last id (null when none was left)
-- and how many were cancelled or asked to stop. {filter}: JdbiJobAdmin's conditions, every value bound.
-- Parameters: the previous batch's last id, the filter's, the batch size.
WITH picked AS MATERIALIZED (
         SELECT j.id
           FROM {schema}.job_queue j
          WHERE (j.status IN ('waiting', 'pending') OR (j.status = 'processing' AND j.cancel_requested_at IS NULL))
            AND j.id > CAST(? AS uuid) AND {filter}
          ORDER BY j.id
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED)
SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1),
       {schema}.job_queue_cancel_jobs(ARRAY(SELECT p.id FROM picked p), NULL)
