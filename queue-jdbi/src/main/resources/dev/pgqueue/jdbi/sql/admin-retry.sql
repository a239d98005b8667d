-- JdbiJobAdmin.retry, one batch (its own transaction): the next failed or cancelled jobs the filter
-- matches, by id after the previous batch's last, locked (rows other transactions hold locked are
-- skipped), retried by job_queue_retry() (V6), which also releases their workflow dependents and wakes
-- the workers. Returns the batch's last id (null when none was left) and how many were retried.
-- {filter}: JdbiJobAdmin's conditions, every value in them bound.
-- Parameters: the previous batch's last id, the filter's, the batch size.
WITH picked AS MATERIALIZED (
         SELECT j.id
           FROM {schema}.job_queue j
          WHERE j.status IN ('failed', 'cancelled') AND j.id > CAST(? AS uuid) AND {filter}
          ORDER BY j.id
          LIMIT CAST(? AS integer)
            FOR UPDATE SKIP LOCKED)
SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1),
       {schema}.job_queue_retry(ARRAY(SELECT p.id FROM picked p), NULL)
