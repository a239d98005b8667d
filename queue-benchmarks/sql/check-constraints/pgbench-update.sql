\set k random(1, 100000)
UPDATE job_queue SET status = 'processing', lease_expires_at = now() + interval '1 minute' WHERE id = (SELECT id FROM bench_ids WHERE n = :k);
