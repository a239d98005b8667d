-- Server time per row of batch statements on job_queue in schema :s: 1,000 claim-shaped updates of 100
-- pending jobs by id, 1,000 completion-shaped updates of the same, then 200 inserts of 1,000 rows.
-- psql -v s=<schema> -f batches.sql
\set ON_ERROR_STOP 1
SET search_path = :"s";
TRUNCATE job_queue;
INSERT INTO job_queue (job_type, payload) SELECT 'bench.job', '{"n": 1}' FROM generate_series(1, 100000);
VACUUM ANALYZE job_queue;
CREATE TEMP TABLE batches AS
    SELECT n / 100 AS b, array_agg(id) AS ids FROM (SELECT id, row_number() OVER () - 1 AS n FROM job_queue) x GROUP BY n / 100;
DO $$
DECLARE
    r record;
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR r IN SELECT ids FROM batches ORDER BY b LOOP
        UPDATE job_queue j SET status = 'processing', lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute',
                               attempt = attempt + 1, lease_owner = 'w'
         WHERE j.id = ANY (r.ids);
    END LOOP;
    RAISE NOTICE 'claim of 100, per row: % us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / 100000, 2);
    t0 := clock_timestamp();
    FOR r IN SELECT ids FROM batches ORDER BY b LOOP
        UPDATE job_queue j SET status = 'completed', completed_at = now(), lease_token = NULL, lease_expires_at = NULL
         WHERE j.id = ANY (r.ids);
    END LOOP;
    RAISE NOTICE 'completion of 100, per row: % us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / 100000, 2);
END $$;
TRUNCATE job_queue;
CHECKPOINT;
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR i IN 1..200 LOOP
        INSERT INTO job_queue (job_type, payload, queue, priority) SELECT 'bench.job', '{"n": 1}', 'default', 0 FROM generate_series(1, 1000);
    END LOOP;
    RAISE NOTICE 'insert of 1,000, per row: % us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / 200000, 2);
END $$;
