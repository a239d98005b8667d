-- Server time of single-row statements on job_queue in schema :s: 20,000 updates of one processing job
-- each (completion-shaped), then 20,000 seed-style inserts, in a PL/pgSQL loop (one transaction).
-- psql -v s=<schema> -f single-row.sql
\set ON_ERROR_STOP 1
SET search_path = :"s";
TRUNCATE job_queue;
INSERT INTO job_queue (job_type, payload, status, lease_token, lease_expires_at, lease_owner, attempt)
SELECT 'bench.job', '{"n": 1}', 'processing', gen_random_uuid(), now() + interval '1 hour', 'w', 1 FROM generate_series(1, 40000);
VACUUM ANALYZE job_queue;
CREATE TEMP TABLE ids AS SELECT id, lease_token, row_number() OVER () AS n FROM job_queue;
DO $$
DECLARE
    r record;
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR r IN SELECT id, lease_token FROM ids ORDER BY n LIMIT 20000 LOOP
        UPDATE job_queue j SET status = 'completed', completed_at = now(), result = NULL, error_message = NULL,
                               lease_token = NULL, lease_expires_at = NULL
         WHERE j.id = r.id AND j.lease_token = r.lease_token AND j.status = 'processing';
    END LOOP;
    RAISE NOTICE 'single-row update: % us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / 20000, 1);
    t0 := clock_timestamp();
    FOR i IN 1..20000 LOOP
        INSERT INTO job_queue (job_type, payload, user_id) VALUES ('bench.job', '{"n": 1}', NULL);
    END LOOP;
    RAISE NOTICE 'single-row insert: % us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / 20000, 1);
END $$;
