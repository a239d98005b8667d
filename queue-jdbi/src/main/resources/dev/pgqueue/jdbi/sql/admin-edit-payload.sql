-- JdbiJobAdmin.retryWithPayload, then: replace a failed or cancelled job's payload, recording the edit
-- (the reason and the previous payload, cut at 2,000 characters) in its history; job_queue_retry()
-- follows in the same transaction. The payload limit's trigger (V4) checks the new payload.
-- Parameters: the new payload (JSON text), the reason (or null), id.
UPDATE {schema}.job_queue j
   SET payload = CAST(f.payload AS jsonb),
       history = {schema}.job_queue_history_append(j.history, j.attempt, pg_catalog.statement_timestamp(), 'payload-edited',
                                                   pg_catalog.concat(coalesce(f.reason, 'payload edited'), '; previous payload: ',
                                                       pg_catalog.left(CAST(j.payload AS text), 2000)), NULL)
  FROM (SELECT CAST(? AS text) AS payload, CAST(? AS text) AS reason, CAST(? AS uuid) AS id) f
 WHERE j.id = f.id AND j.status IN ('failed', 'cancelled')
RETURNING j.id
