-- JdbiJobAdmin.retryWithPayload, first: lock one job and read its type, status and payload.
-- Parameter: id.
SELECT j.job_type, j.status, CAST(j.payload AS text)
  FROM {schema}.job_queue j
 WHERE j.id = CAST(? AS uuid)
   FOR UPDATE
