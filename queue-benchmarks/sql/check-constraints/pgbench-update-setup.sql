-- 100,000 processing jobs and a lookup table for pgbench-update.sql, in schema :s.
\set ON_ERROR_STOP 1
SET search_path = :"s";
SET client_min_messages = warning;
TRUNCATE job_queue;
INSERT INTO job_queue (job_type, payload, status, lease_token, lease_expires_at, lease_owner, attempt)
SELECT 'bench.job', '{"n": 1}', 'processing', gen_random_uuid(), now() + interval '1 hour', 'w', 1 FROM generate_series(1, 100000);
DROP TABLE IF EXISTS bench_ids;
CREATE TABLE bench_ids AS SELECT row_number() OVER () AS n, id FROM job_queue;
CREATE INDEX ON bench_ids (n);
VACUUM ANALYZE job_queue;
VACUUM ANALYZE bench_ids;
