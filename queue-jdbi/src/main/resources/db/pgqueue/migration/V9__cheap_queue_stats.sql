-- pgqueue V9: what keeps queue statistics cheap on a table of millions of jobs (JdbiJobAdmin.queueStats,
-- the dashboard's overview, `pgqueue status`, the Micrometer gauges): an index of the waiting jobs, and
-- planner statistics of queue and status together. Part of pgqueue's public SQL contract (see
-- docs/admin.md, "Queue statistics").
--
-- Plain SQL, like V1-V8: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Safe during a rolling upgrade: it adds no column and changes no statement of the worker. Building
-- job_queue_waiting_idx reads the table once under the migration's lock (only waiting rows enter it);
-- on a very large job_queue, create it beforehand with CREATE INDEX CONCURRENTLY (the same definition)
-- and this skips it. Neither object adds a write to a job that never waits: a job enters the index only
-- while it is inserted or updated as 'waiting' (workflow steps), and the statistics are computed by
-- ANALYZE (autovacuum's), never per row.

-- Serves the exact count of waiting jobs per queue in queueStats (an index-only scan, the way
-- job_queue_claim_idx serves pending jobs and job_queue_failed_idx failed ones) and the admin API's
-- pages of waiting jobs of a queue, in page order (JdbiJobAdmin.find). Without it both read the
-- whole table.
CREATE INDEX IF NOT EXISTS job_queue_waiting_idx
    ON job_queue (queue, created_at, id) WHERE status = 'waiting';

-- The most common (queue, status) pairs and their frequencies, kept by ANALYZE. queueStats estimates
-- the completed and cancelled jobs of each queue (and the failed ones, above its exact-count limit)
-- from the planner's row estimate, as EXPLAIN shows it; without these, the planner multiplies the
-- frequency of the queue by that of the status, which is wrong as soon as queues differ (one queue
-- all failed, another all pending).
CREATE STATISTICS IF NOT EXISTS job_queue_queue_status_stats (mcv) ON queue, status FROM job_queue;
