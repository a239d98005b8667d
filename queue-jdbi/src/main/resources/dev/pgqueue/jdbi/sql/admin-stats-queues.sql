-- JdbiJobAdmin.queueStats on a large table: the queue names ANALYZE found most often (pg_stats, which
-- shows them to every role that may read job_queue.queue), so that a queue that has only finished
-- jobs is listed too. Parameters: the schema's name.
SELECT CAST(CAST(s.most_common_vals AS text) AS text[])
  FROM pg_catalog.pg_stats s
 WHERE s.schemaname = CAST(? AS name) AND s.tablename = 'job_queue' AND s.attname = 'queue'
