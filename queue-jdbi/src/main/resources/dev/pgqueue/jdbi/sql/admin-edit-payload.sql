-- JdbiJobAdmin.retryWithPayload, then: replace a failed or cancelled job's payload, recording the edit
-- (the reason and the previous payload, cut at 2,000 characters) in its history; job_queue_retry()
-- follows in the same transaction. The payload limit's trigger (V4) checks the new payload.
-- Parameters: the new payload (JSON text), the reason (or null), id.
UPDATE {schema}.job_queue j
   SET payload = CAST(f.payload AS jsonb),
       history = CASE WHEN pg_catalog.jsonb_array_length(coalesce(j.history, CAST('[]' AS jsonb))) >= 20
                      THEN j.history - 0 ELSE coalesce(j.history, CAST('[]' AS jsonb)) END
                 || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                        'attempt', j.attempt, 'at', pg_catalog.statement_timestamp(), 'kind', 'payload-edited',
                        'message', pg_catalog.concat(coalesce(f.reason, 'payload edited'), '; previous payload: ',
                                                     pg_catalog.left(CAST(j.payload AS text), 2000)),
                        'worker', NULL))
  FROM (SELECT CAST(? AS text) AS payload, CAST(? AS text) AS reason, CAST(? AS uuid) AS id) f
 WHERE j.id = f.id AND j.status IN ('failed', 'cancelled')
RETURNING j.id
