-- JdbiJobAdmin.queueStats on a large table: the planner's row estimates, from ANALYZE's statistics
-- (V9's job_queue_queue_status_stats for queue and status together), nothing executed. {selects} is
-- "SELECT 1 FROM job_queue j" alone (the table's size), or one
-- "SELECT 1 FROM job_queue j WHERE j.queue = CAST(? AS text) AND j.status = '<status>'" per queue and
-- finished status, joined with UNION ALL; each Append branch's "Plan Rows" is its estimate.
-- Parameters: one queue name per branch.
EXPLAIN (FORMAT JSON) {selects}
