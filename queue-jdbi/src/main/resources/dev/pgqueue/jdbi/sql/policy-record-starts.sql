-- Record jobs just claimed under limits (one row per job and limit), so that the next claims count
-- them as running and as started. Parameters: now (the claim's), then pairwise arrays: queues,
-- job types ('*' = the whole queue's limit), job ids, lease tokens.
INSERT INTO {schema}.job_queue_policy_start (queue, job_type, started_at, job_id, lease_token)
SELECT s.queue, s.job_type, CAST(? AS timestamptz), s.job_id, s.lease_token
  FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS uuid[]), CAST(? AS uuid[]))
           AS s(queue, job_type, job_id, lease_token)
