-- JdbiJobAdmin.delete, one batch (its own transaction): the next jobs the filter matches that are not
-- processing, by id after the previous batch's last, locked (rows other transactions hold locked are
-- skipped), deleted by job_queue_delete_jobs() (V6). Returns the batch's last id (null when none was
-- left) and how many were deleted. {filter}: JdbiJobAdmin's conditions, every value bound.
-- Parameters: the previous batch's last id, the filter's, the batch size.
WITH picked AS MATERIALIZED (
         SELECT j.id
           FROM {schema}.job_queue j
          WHERE j.status <> 'processing' AND j.id > CAST(? AS uuid) AND {filter}
          ORDER BY j.id
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED)
SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1),
       {schema}.job_queue_delete_jobs(ARRAY(SELECT p.id FROM picked p))
