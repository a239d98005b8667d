INSERT INTO job_queue (job_type, payload, user_id) VALUES ('bench.job', '{"n": 1}', NULL);
